import type { ChannelCredentials, ChannelOptions, Metadata } from '@grpc/grpc-js';
import { TributaryError } from '../../errors/index.js';
import type { Logger } from '../../observability/index.js';
import type { NodeId } from '../../raft/index.js';
import {
  ControllerRaftServiceClient,
  type InstallSnapshotRequest,
  type RaftMessage,
  type StreamMessagesRequest,
} from '../generated/tributary/controller/v1/controller_raft_service.js';
import { backoffDelayMs } from './backoff-delay-ms.js';
import { RaftOutboundQueue } from './raft-outbound-queue.js';
import { RaftPeerStream } from './raft-peer-stream.js';
import { transportChannelOptions } from '../transport-windows.js';
import { newRequestHeader } from './request-header.js';

/** The bounds of one peer's connection; every queue, batch and retry has one. */
export interface RaftPeerLimits {
  /** Messages waiting for the peer, snapshot chunks included; beyond it the oldest are dropped. */
  readonly peerQueueMessagesMax: number;
  /** Messages per StreamMessages request. */
  readonly batchMessagesMax: number;
  /** Estimated bytes per StreamMessages request, after its first message. */
  readonly batchBytesMax: number;
  /** Reconnect delay ceiling after the first failure; doubles per consecutive failure. */
  readonly backoffMsMin: number;
  /** Reconnect delay ceiling however many failures came before. */
  readonly backoffMsMax: number;
  /** How long a new stream may wait for the peer to accept it before it counts as failed. */
  readonly acceptTimeoutMs: number;
  /** How long close() lets half-closed streams finish before cancelling them. */
  readonly closeGraceMs: number;
}

/** What every peer of one transport shares. */
export interface RaftPeerContext {
  readonly nodeId: NodeId;
  readonly clusterId: string;
  readonly clientId: string;
  readonly credentials: ChannelCredentials;
  /** Call metadata (the bearer token when the quorum requires one). */
  readonly metadata: Metadata;
  readonly limits: RaftPeerLimits;
  readonly random: () => number;
  readonly onUnreachable: (peer: NodeId) => void;
  readonly logger: Logger | undefined;
}

/** Pings on an open stream whose peer went silent, so a dead connection is noticed in seconds. */
const keepaliveTimeMs = 10_000;
const keepaliveTimeoutMs = 5_000;

/**
 * One Raft peer as seen by the sender: a gRPC channel opened on first use and kept, one
 * long-lived StreamMessages stream reopened with exponential backoff and jitter after it fails,
 * one InstallSnapshot stream per snapshot, and the bounded queue that feeds them. A failed stream
 * is reported through onUnreachable; what was in flight on it is lost, which Raft tolerates.
 */
export class RaftPeer {
  private readonly queue: RaftOutboundQueue;
  private client: ControllerRaftServiceClient | undefined;
  private messageStream: RaftPeerStream<StreamMessagesRequest> | undefined;
  private snapshot: { readonly key: string; readonly stream: RaftPeerStream<InstallSnapshotRequest> } | undefined;
  /** Snapshot streams half-closed after their last chunk, until the receiver answers. */
  private readonly finishing = new Set<RaftPeerStream<InstallSnapshotRequest>>();
  private backoffTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private closed: Promise<void> | undefined;

  constructor(
    readonly id: NodeId,
    readonly address: string,
    private readonly context: RaftPeerContext,
  ) {
    this.queue = new RaftOutboundQueue(context.limits.peerQueueMessagesMax);
  }

  /** Messages waiting to be written. */
  get queuedCount(): number {
    return this.queue.size;
  }

  /** Messages dropped because the queue was full. */
  get droppedCount(): number {
    return this.queue.dropped;
  }

  /** Queues messages in emission order and writes what the open streams take now. */
  enqueue(messages: readonly RaftMessage[]): void {
    if (this.closed !== undefined) return;
    for (const message of messages) this.queue.push(message);
    this.pump();
  }

  /** Half-closes every stream, waits up to closeGraceMs for them to finish, then closes the channel. */
  close(): Promise<void> {
    this.closed ??= this.shutDown();
    return this.closed;
  }

  private pump(): void {
    if (this.closed !== undefined) return;
    this.pumpMessages();
    this.pumpSnapshot();
  }

  private pumpMessages(): void {
    if (this.queue.messageCount === 0) return;
    if (this.messageStream === undefined) {
      if (this.backoffTimer === undefined) this.messageStream = this.openMessageStream();
      return;
    }
    const { batchMessagesMax, batchBytesMax } = this.context.limits;
    while (this.messageStream.writable && this.queue.messageCount > 0) {
      const messages = this.queue.takeBatch(batchMessagesMax, batchBytesMax);
      this.messageStream.write({ header: undefined, clusterId: '', fromId: 0, toId: 0, messages });
    }
  }

  private pumpSnapshot(): void {
    for (let chunk = this.queue.peekChunk(); chunk !== undefined; chunk = this.queue.peekChunk()) {
      const key = snapshotKey(chunk);
      if (this.snapshot !== undefined && this.snapshot.key !== key) this.finishSnapshot();
      if (this.snapshot === undefined) {
        if (this.backoffTimer === undefined) this.snapshot = { key, stream: this.openSnapshotStream() };
        return;
      }
      if (!this.snapshot.stream.writable) return;
      this.queue.takeChunk();
      this.snapshot.stream.write({ header: undefined, clusterId: '', fromId: 0, toId: 0, message: chunk });
      if (chunk.body?.$case === 'snapshot' && chunk.body.value.done) this.finishSnapshot();
    }
  }

  /** Half-closes the current snapshot stream: its last chunk is written, or a newer snapshot replaces it. */
  private finishSnapshot(): void {
    const stream = this.snapshot?.stream;
    if (stream === undefined) return;
    this.snapshot = undefined;
    this.finishing.add(stream);
    stream.end();
  }

  private openMessageStream(): RaftPeerStream<StreamMessagesRequest> {
    const stream = new RaftPeerStream<StreamMessagesRequest>(
      (callback) => this.channel().streamMessages(this.context.metadata, callback),
      { header: newRequestHeader(this.context.clientId), ...this.route(), messages: [] },
      this.context.limits.acceptTimeoutMs,
      {
        onAccepted: () => this.accepted(),
        onWritable: () => this.pump(),
        onEnded: (error) => {
          if (this.messageStream !== stream) return;
          this.messageStream = undefined;
          this.failed(error ?? new TributaryError('NOT_AVAILABLE', `controller ${this.id} ended the StreamMessages stream`));
        },
      },
    );
    return stream;
  }

  private openSnapshotStream(): RaftPeerStream<InstallSnapshotRequest> {
    const stream = new RaftPeerStream<InstallSnapshotRequest>(
      (callback) => this.channel().installSnapshot(this.context.metadata, callback),
      { header: newRequestHeader(this.context.clientId), ...this.route(), message: undefined },
      this.context.limits.acceptTimeoutMs,
      {
        onAccepted: () => this.accepted(),
        onWritable: () => this.pump(),
        onEnded: (error) => {
          this.finishing.delete(stream);
          if (this.snapshot?.stream === stream) this.snapshot = undefined;
          if (error !== undefined) this.failed(error);
        },
      },
    );
    return stream;
  }

  private route(): { clusterId: string; fromId: number; toId: number } {
    return { clusterId: this.context.clusterId, fromId: this.context.nodeId, toId: this.id };
  }

  private accepted(): void {
    this.failures = 0;
    this.pump();
  }

  /** A stream failed: tell the host, and reopen after a backoff if none is already running. */
  private failed(error: TributaryError): void {
    if (this.closed !== undefined) return;
    this.failures += 1;
    if (this.failures === 1) {
      this.context.logger?.warn({ peer: this.id, address: this.address, code: error.code, error: error.message }, 'raft peer stream failed; reconnecting with backoff');
    }
    this.context.onUnreachable(this.id);
    if (this.backoffTimer !== undefined) return;
    const delayMs = backoffDelayMs(this.failures, this.context.limits, this.context.random);
    this.backoffTimer = setTimeout(() => {
      this.backoffTimer = undefined;
      this.pump();
    }, delayMs);
  }

  /** The peer's one channel, created on first use; grpc-js reconnects it within our backoff bounds. */
  private channel(): ControllerRaftServiceClient {
    const { backoffMsMin, backoffMsMax } = this.context.limits;
    const options: ChannelOptions = {
      ...transportChannelOptions,
      'grpc.initial_reconnect_backoff_ms': backoffMsMin,
      'grpc.max_reconnect_backoff_ms': backoffMsMax,
      'grpc.keepalive_time_ms': keepaliveTimeMs,
      'grpc.keepalive_timeout_ms': keepaliveTimeoutMs,
      // A private connection per transport: closing it closes the socket, even when several nodes
      // of one process (trib dev --nodes 3, tests) talk to the same peer.
      'grpc.use_local_subchannel_pool': 1,
    };
    this.client ??= new ControllerRaftServiceClient(this.address, this.context.credentials, options);
    return this.client;
  }

  private async shutDown(): Promise<void> {
    clearTimeout(this.backoffTimer);
    this.backoffTimer = undefined;
    this.queue.clear();
    this.finishSnapshot();
    const streams = [...(this.messageStream === undefined ? [] : [this.messageStream]), ...this.finishing];
    for (const stream of streams) stream.end();
    let graceTimer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(streams.map((stream) => stream.finished)),
      new Promise((resolve) => {
        graceTimer = setTimeout(resolve, this.context.limits.closeGraceMs);
      }),
    ]);
    clearTimeout(graceTimer);
    for (const stream of streams) stream.cancel();
    this.client?.close();
  }
}

/** Chunks of one snapshot share a stream: the receiver assembles by sender, term and snapshot. */
function snapshotKey(chunk: RaftMessage): string {
  const metadata = chunk.body?.$case === 'snapshot' ? chunk.body.value.metadata : undefined;
  return `${chunk.from}/${chunk.term}/${metadata?.index ?? 0}/${metadata?.term ?? 0}`;
}
