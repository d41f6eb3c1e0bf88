import assert from 'node:assert/strict';
import type { ClientWritableStream, ServiceError } from '@grpc/grpc-js';
import { TributaryError } from '../../errors/index.js';
import { fromGrpcError } from '../error-status.js';

export interface RaftPeerStreamEvents {
  /** The receiver accepted the stream's route: messages may be written now. */
  onAccepted(): void;
  /** A write had filled the stream's buffer; there is room again. */
  onWritable(): void;
  /** The call is over: `undefined` after a half-close the receiver answered, else why it failed. */
  onEnded(error: TributaryError | undefined): void;
}

/** Starts the call; grpc-js reports its end to `callback`. */
export type OpenClientStream<Request> = (callback: (error: ServiceError | null) => void) => ClientWritableStream<Request>;

/**
 * One outbound client stream to a Raft peer. It writes the route-only first request at once and
 * takes messages only after the receiver's response headers say it accepted the route: until then
 * they stay in the peer's bounded queue, so a peer that is down or refuses the route never holds
 * messages in gRPC's unbounded buffers. After acceptance a write that fills the stream's buffer
 * makes it unwritable until 'drain', which is the transport's backpressure. A stream not accepted
 * within `acceptTimeoutMs` (a peer that takes the connection but never answers) is cancelled and
 * reported as a TIMEOUT, so the peer reconnects rather than waiting forever.
 */
export class RaftPeerStream<Request> {
  /** Settles when the call is over, however it ended. */
  readonly finished: Promise<void>;
  private readonly call: ClientWritableStream<Request>;
  private accepted = false;
  private blocked = false;
  private ended = false;

  constructor(open: OpenClientStream<Request>, firstRequest: Request, acceptTimeoutMs: number, events: RaftPeerStreamEvents) {
    let settle = () => {};
    this.finished = new Promise((resolve) => {
      settle = resolve;
    });
    let timedOut = false;
    const acceptTimer = setTimeout(() => {
      timedOut = true;
      this.cancel();
    }, acceptTimeoutMs);
    this.call = open((error) => {
      clearTimeout(acceptTimer);
      this.ended = true;
      settle();
      const timeout = new TributaryError('TIMEOUT', `the peer did not accept the stream within ${acceptTimeoutMs} ms`);
      events.onEnded(error === null ? undefined : timedOut ? timeout : fromGrpcError(error));
    });
    this.call.on('metadata', () => {
      clearTimeout(acceptTimer);
      this.accepted = true;
      events.onAccepted();
    });
    this.call.on('drain', () => {
      this.blocked = false;
      events.onWritable();
    });
    this.call.write(firstRequest);
  }

  /** Whether a write now would be accepted without piling up in gRPC's buffers. */
  get writable(): boolean {
    return this.accepted && !this.blocked && !this.ended;
  }

  write(request: Request): void {
    assert.ok(this.writable, 'RaftPeerStream.write on a stream that is not writable');
    if (!this.call.write(request)) this.blocked = true;
  }

  /** Half-closes: the receiver answers once it has handed everything written to its core. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.call.end();
  }

  /** Abandons the call at once; whatever was not yet delivered is lost, which Raft tolerates. */
  cancel(): void {
    this.ended = true;
    this.call.cancel();
  }
}
