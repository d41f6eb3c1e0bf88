import assert from 'node:assert/strict';
import type { RaftMessage } from '../generated/tributary/controller/v1/controller_raft_service.js';

/** Fixed cost counted per message and per entry on top of their bytes fields: tags, lengths, varints. */
const envelopeBytesEstimate = 48;
const entryBytesEstimate = 24;

/**
 * The messages waiting for one peer, in two lanes: snapshot chunks (for InstallSnapshot) and
 * everything else (for StreamMessages), each in the order the core emitted it. The lanes share
 * one bound. When it is exceeded the oldest non-snapshot message is dropped, or the oldest chunk
 * when only chunks wait: Raft tolerates lost messages (the leader resends), while a host that
 * blocked on a slow peer would stall the whole quorum.
 */
export class RaftOutboundQueue {
  private readonly messages: RaftMessage[] = [];
  private readonly chunks: RaftMessage[] = [];
  private droppedTotal = 0;

  constructor(private readonly messagesMax: number) {
    assert.ok(Number.isSafeInteger(messagesMax) && messagesMax >= 1, `peerQueueMessagesMax must be a positive integer, got ${messagesMax}`);
  }

  get size(): number {
    return this.messages.length + this.chunks.length;
  }

  get messageCount(): number {
    return this.messages.length;
  }

  /** Messages dropped because the queue was full, since it was created. */
  get dropped(): number {
    return this.droppedTotal;
  }

  push(message: RaftMessage): void {
    (message.body?.$case === 'snapshot' ? this.chunks : this.messages).push(message);
    if (this.size > this.messagesMax) {
      (this.messages.length > 0 ? this.messages : this.chunks).shift();
      this.droppedTotal += 1;
    }
    assert.ok(this.size <= this.messagesMax);
  }

  /**
   * The oldest non-snapshot messages, at most `messagesMax` of them and, after the first, no more
   * than `bytesMax` by estimate: a single oversize message still goes, alone.
   */
  takeBatch(messagesMax: number, bytesMax: number): RaftMessage[] {
    let count = 0;
    let bytes = 0;
    while (count < this.messages.length && count < messagesMax) {
      const next = estimatedSizeBytes(this.messages[count] as RaftMessage);
      if (count > 0 && bytes + next > bytesMax) break;
      bytes += next;
      count += 1;
    }
    return this.messages.splice(0, count);
  }

  peekChunk(): RaftMessage | undefined {
    return this.chunks[0];
  }

  takeChunk(): RaftMessage | undefined {
    return this.chunks.shift();
  }

  clear(): void {
    this.messages.length = 0;
    this.chunks.length = 0;
  }
}

/**
 * Encoded size of a non-snapshot message, closely enough to keep a batch well under the
 * receiver's message size limit (chunks are never batched).
 */
function estimatedSizeBytes(message: RaftMessage): number {
  const body = message.body;
  switch (body?.$case) {
    case 'append':
      return envelopeBytesEstimate + body.value.entries.reduce((sum, entry) => sum + entryBytesEstimate + entry.data.byteLength, 0);
    case 'heartbeat':
    case 'heartbeatResponse':
    case 'readIndex':
    case 'readIndexResponse':
      return envelopeBytesEstimate + body.value.context.byteLength;
    default:
      return envelopeBytesEstimate;
  }
}
