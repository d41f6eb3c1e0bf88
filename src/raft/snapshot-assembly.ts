import type { Message, NodeId, Snapshot } from './raft-types.js';

type SnapshotMessage = Extract<Message, { type: 'snapshot' }>;

/** What to answer a chunk with, or the whole snapshot once the last chunk is in. */
export type ChunkOutcome =
  | { readonly kind: 'ack'; readonly nextOffset: number; readonly reject: boolean }
  | { readonly kind: 'complete'; readonly snapshot: Snapshot };

interface Assembly {
  readonly from: NodeId;
  readonly term: number;
  readonly index: number;
  readonly snapshotTerm: number;
  readonly chunks: Uint8Array[];
  receivedBytes: number;
}

/**
 * A follower's half of InstallSnapshot: chunks must arrive contiguously from offset 0. A repeat
 * is acknowledged without being stored again; a gap, or a chunk of a snapshot not being assembled,
 * is rejected with the offset expected, so the leader resends from there. One snapshot at a time,
 * from one leader and term: a new one replaces it.
 */
export class SnapshotAssembly {
  private current: Assembly | undefined = undefined;

  receive(message: SnapshotMessage): ChunkOutcome {
    const assembly = this.matching(message) ?? this.start(message);
    if (assembly === undefined) return { kind: 'ack', nextOffset: 0, reject: true };
    const { offset, data } = message;
    if (offset > assembly.receivedBytes) return { kind: 'ack', nextOffset: assembly.receivedBytes, reject: true };
    if (offset === assembly.receivedBytes) {
      assembly.chunks.push(data);
      assembly.receivedBytes += data.byteLength;
      if (message.done) return this.complete(message);
    }
    return { kind: 'ack', nextOffset: assembly.receivedBytes, reject: false };
  }

  reset(): void {
    this.current = undefined;
  }

  private matching(message: SnapshotMessage): Assembly | undefined {
    const current = this.current;
    const { index, term } = message.metadata;
    const same = current !== undefined && current.from === message.from && current.term === message.term &&
      current.index === index && current.snapshotTerm === term;
    return same ? current : undefined;
  }

  private start(message: SnapshotMessage): Assembly | undefined {
    if (message.offset !== 0) return undefined;
    const { index, term } = message.metadata;
    this.current = { from: message.from, term: message.term, index, snapshotTerm: term, chunks: [], receivedBytes: 0 };
    return this.current;
  }

  private complete(message: SnapshotMessage): ChunkOutcome {
    const assembly = this.current;
    this.current = undefined;
    const data = new Uint8Array(assembly?.receivedBytes ?? 0);
    let offset = 0;
    for (const chunk of assembly?.chunks ?? []) {
      data.set(chunk, offset);
      offset += chunk.byteLength;
    }
    return { kind: 'complete', snapshot: { metadata: message.metadata, data } };
  }
}
