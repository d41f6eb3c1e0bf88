import type { sendUnaryData, ServerReadableStream } from '@grpc/grpc-js';
import type { Clock } from '../../actors/clock.js';
import { TributaryError } from '../../errors/index.js';
import type { ChunkOutcome } from '../../ingest/ingest-partition.js';
import type { Logger } from '../../observability/index.js';
import { toGrpcStatus } from '../error-status.js';
import { type UploadRequest, UploadResponse } from '../generated/tributary/ingest/v1/data_ingest_service.js';
import type { IngestLeaders } from './ingest-leaders.js';
import type { IngestMetrics } from './ingest-metrics.js';
import type { UploadByteBudget } from './upload-byte-budget.js';
import { progressToWire, sessionStateToWire } from './ingest-mapping.js';
import { type LocatedSession, locateSession } from './located-session.js';
import { uploadChunkOf } from './upload-chunk-mapping.js';

/** Pause between tries to complete a session inside an Upload call. */
const completionRetryDelayMs = 100;

/** Trailer of a failed Upload holding an UploadResponse with the committed offsets (data_ingest_service.proto). */
export const uploadAckTrailer = 'tributary-upload-ack-bin';

export interface UploadCallContext {
  readonly leaders: IngestLeaders;
  /** The node's bound on received, uncommitted upload bytes, shared by every call. */
  readonly budget: UploadByteBudget;
  readonly metrics: IngestMetrics;
  readonly clock: Clock;
  readonly stop: AbortSignal;
  readonly logger: Logger;
}

/**
 * One Upload call: chunks are decided in the order they arrive (each against the ones before it)
 * and commit in parallel; the call reads no further while `callUncommittedBytesMax` of its bytes
 * await commit, so HTTP/2 flow control holds the device back. The answer comes once the device
 * half-closes and everything it sent is committed (and, when the call closed the last source,
 * once the session has completed or failed). The first failure ends the call, with the committed
 * offsets in the `tributary-upload-ack-bin` trailer once the session is known.
 */
export class UploadCall {
  private located: LocatedSession | undefined;
  /** Decisions run one after another, in arrival order. */
  private decisions: Promise<void> = Promise.resolve();
  private readonly commits = new Set<Promise<void>>();
  private uncommittedBytes = 0;
  private paused = false;
  /** Cancels this call's wait for room in the node's budget, when it waits. */
  private cancelRoomWait: (() => void) | undefined;
  private answered = false;
  private closedSource = false;
  private chunksReceived = 0;
  private storedBytes = 0;
  private duplicateBytes = 0;

  constructor(
    private readonly call: ServerReadableStream<UploadRequest, UploadResponse>,
    private readonly callback: sendUnaryData<UploadResponse>,
    private readonly context: UploadCallContext,
  ) {}

  start(): void {
    this.call.on('data', (request: UploadRequest) => this.received(request));
    this.call.on('end', () => void this.finish());
    this.call.on('error', (error: Error) => this.fail(error));
    // A cancelled call is not answered; what it stored stays stored, and GetOffset reports it.
    this.call.on('cancelled', () => this.fail(new TributaryError('TIMEOUT', 'the client cancelled the Upload call')));
  }

  private received(request: UploadRequest): void {
    if (this.answered) return;
    this.chunksReceived += 1;
    this.decisions = this.decisions.then(() => this.decide(request)).catch((error: unknown) => this.fail(error));
  }

  private async decide(request: UploadRequest): Promise<void> {
    if (this.answered) return;
    const located = await this.session(request);
    const { partition, session } = located;
    const chunk = uploadChunkOf(request, session.source(request.source).spec, this.context.leaders.settings.maxChunkBytes, session.where);
    const bytes = chunk.payload.byteLength;
    this.hold(bytes);
    let decided: { committed: Promise<ChunkOutcome> };
    try {
      decided = await partition.upload(session, chunk, this.deadlineMs(), this.context.stop);
    } catch (error) {
      this.release(bytes);
      throw error;
    }
    this.closedSource ||= chunk.final;
    const commit = decided.committed.then(
      (outcome) => {
        this.storedBytes += outcome.storedBytes;
        this.duplicateBytes += outcome.duplicateBytes;
        this.context.metrics.committed(outcome.storedBytes, outcome.duplicateBytes);
      },
      (error: unknown) => this.fail(error),
    ).finally(() => {
      this.release(bytes);
      this.commits.delete(commit);
    });
    this.commits.add(commit);
  }

  /** The call's session: named by its first message, and the same on every later one that names it. */
  private async session(request: UploadRequest): Promise<LocatedSession> {
    if (this.located === undefined) {
      if (request.deviceId === '' || request.sessionId === '') throw new TributaryError('INVALID_REQUEST', 'the first message of an Upload call must carry device_id and session_id');
      this.located = await locateSession(this.context.leaders, request.deviceId, request.sessionId, this.deadlineMs(), this.context.stop);
      return this.located;
    }
    const { deviceId, sessionId } = this.located.session.declaration;
    if ((request.deviceId !== '' && request.deviceId !== deviceId) || (request.sessionId !== '' && request.sessionId !== sessionId)) {
      throw new TributaryError('INVALID_REQUEST', `this Upload call is for session "${deviceId}/${sessionId}"; a message names "${request.deviceId}/${request.sessionId}" (one call uploads one session)`);
    }
    return this.located;
  }

  private async finish(): Promise<void> {
    await this.decisions;
    while (this.commits.size > 0) await Promise.all([...this.commits]);
    if (this.answered) return;
    const located = this.located;
    if (located !== undefined && this.closedSource) await this.completeWithinDeadline(located);
    this.answer(undefined);
  }

  /**
   * Waits for the session to leave COMMITTING within the call's deadline, trying again after a
   * retriable failure (the controller not reachable yet); past the deadline the answer says
   * COMMITTING and the session's actor completes it (the contract: poll GetSession).
   */
  private async completeWithinDeadline(located: LocatedSession): Promise<void> {
    const { clock, logger } = this.context;
    for (;;) {
      try {
        await withDeadline(located.partition.complete(located.session), this.deadlineMs() - clock.nowMs(), clock);
        return;
      } catch (error) {
        // A leadership that ended is not retried here: the new leader's device-session actor completes the session.
        const retriable = TributaryError.from(error).retriable && clock.nowMs() + completionRetryDelayMs < this.deadlineMs() && leads(located);
        if (!retriable) {
          logger.warn({ err: error, session: located.session.where }, 'the session did not complete within the Upload call');
          return;
        }
        await new Promise<void>((resolve) => clock.setTimer(completionRetryDelayMs, resolve));
      }
    }
  }

  private fail(error: unknown): void {
    if (this.answered) return;
    const failure = TributaryError.from(error);
    this.context.metrics.refused(failure.code);
    this.answer(failure);
  }

  private answer(error: TributaryError | undefined): void {
    if (this.answered) return;
    this.answered = true;
    this.resumeReading();
    const response = this.response();
    if (error === undefined && response !== undefined) {
      this.callback(null, response);
      return;
    }
    const status = toGrpcStatus(error ?? new TributaryError('INVALID_REQUEST', 'the Upload call carried no chunk'));
    if (response !== undefined) status.metadata?.set(uploadAckTrailer, Buffer.from(UploadResponse.encode(response).finish()));
    this.callback(status);
  }

  private response(): UploadResponse | undefined {
    if (this.located === undefined) return undefined;
    const { partition, session } = this.located;
    const highWatermark = partition.log.highWatermark();
    return {
      state: sessionStateToWire(session.state(highWatermark)),
      sources: progressToWire(session.progress(highWatermark)),
      chunksReceived: this.chunksReceived,
      committedBytes: this.storedBytes,
      duplicateBytes: this.duplicateBytes,
    };
  }

  private hold(bytes: number): void {
    this.uncommittedBytes += bytes;
    const nodeFull = this.context.budget.hold(bytes);
    if (this.paused || this.answered) return;
    if (this.uncommittedBytes > this.context.leaders.settings.callUncommittedBytesMax || nodeFull) {
      this.paused = true;
      this.call.pause();
    }
  }

  private release(bytes: number): void {
    this.uncommittedBytes -= bytes;
    this.context.budget.release(bytes);
    this.resumeWhenRoom();
  }

  /** Reads again once both this call and the node are back under half their bounds. */
  private resumeWhenRoom(): void {
    if (!this.paused || this.uncommittedBytes > this.context.leaders.settings.callUncommittedBytesMax / 2) return;
    if (!this.context.budget.hasRoom()) {
      this.cancelRoomWait ??= this.context.budget.whenRoom(() => {
        this.cancelRoomWait = undefined;
        this.resumeWhenRoom();
      });
      return;
    }
    this.resumeReading();
  }

  private resumeReading(): void {
    this.cancelRoomWait?.();
    this.cancelRoomWait = undefined;
    if (!this.paused) return;
    this.paused = false;
    this.call.resume();
  }

  /** The call's deadline, bounded by the append timeout: no wait inside the call outlives either. */
  private deadlineMs(): number {
    const nowMs = this.context.clock.nowMs();
    const deadline = this.call.getDeadline();
    const callDeadlineMs = deadline instanceof Date ? deadline.getTime() : Number.isFinite(deadline) ? deadline : Number.POSITIVE_INFINITY;
    return Math.min(callDeadlineMs, nowMs + this.context.leaders.settings.appendTimeoutMs);
  }
}

function leads(located: LocatedSession): boolean {
  try {
    located.partition.log.assertLeading();
    return true;
  } catch {
    return false;
  }
}

function withDeadline(work: Promise<void>, waitMs: number, clock: Clock): Promise<void> {
  let cancel: () => void = () => undefined;
  const timeout = new Promise<void>((_, reject) => {
    cancel = clock.setTimer(Math.max(0, waitMs), () => reject(new TributaryError('TIMEOUT', `the session did not complete within ${Math.max(0, waitMs)} ms`, { retriable: true })));
  });
  return Promise.race([work, timeout]).finally(() => cancel());
}
