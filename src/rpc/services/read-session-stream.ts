import type { ServerWritableStream } from '@grpc/grpc-js';
import type { Clock } from '../../actors/clock.js';
import { TributaryError } from '../../errors/index.js';
import { terminalSessionStates } from '../../ingest/ingest-types.js';
import type { UploadSource } from '../../ingest/upload-source.js';
import { crc32c } from '../../storage/crc32c.js';
import { toGrpcStatus } from '../error-status.js';
import type { ReadSessionRequest, ReadSessionResponse } from '../generated/tributary/ingest/v1/data_ingest_service.js';
import type { IngestLeaders } from './ingest-leaders.js';
import { sessionInfoOf } from './ingest-mapping.js';
import { type LocatedSession, locateSession } from './located-session.js';

export interface ReadSessionContext {
  readonly leaders: IngestLeaders;
  readonly clock: Clock;
  readonly stop: AbortSignal;
}

const mebibyte = 1024 * 1024;

/**
 * ReadSession: a source's committed bytes from an offset, in pieces of at most max_chunk_bytes,
 * each with its CRC32C. One piece is read and written at a time, and the next waits while the
 * transport is not draining, so a slow reader holds at most a piece plus the HTTP/2 window here.
 * With follow, the stream waits for bytes to commit until the source is final, the session ends,
 * or the call's deadline.
 */
export class ReadSessionStream {
  constructor(
    private readonly call: ServerWritableStream<ReadSessionRequest, ReadSessionResponse>,
    private readonly context: ReadSessionContext,
  ) {}

  start(): void {
    this.run().then(
      () => this.call.end(),
      (error: unknown) => this.call.emit('error', toGrpcStatus(error)),
    );
  }

  private async run(): Promise<void> {
    const { request } = this.call;
    const { leaders, clock, stop } = this.context;
    const located = await locateSession(leaders, request.deviceId, request.sessionId, clock.nowMs() + leaders.settings.appendTimeoutMs, stop);
    const source = located.session.source(request.source);
    const pieceBytesMax = Math.min(request.maxChunkBytes === 0 ? mebibyte : request.maxChunkBytes, leaders.settings.maxChunkBytes);
    const highWatermark = located.partition.log.highWatermark();
    const committedBytes = source.committedBytes(highWatermark);
    if (request.offsetBytes > committedBytes) {
      throw new TributaryError('OFFSET_OUT_OF_RANGE', `${located.session.where} source "${source.spec.name}" has ${committedBytes} committed bytes; cannot read from byte ${request.offsetBytes}`);
    }
    const info = sessionInfoOf(located.partition, located.session, located.placement).sources.find((entry) => entry.spec?.name === source.spec.name);
    await this.write({ offsetBytes: request.offsetBytes, payload: Buffer.alloc(0), crc32c: 0, final: source.finalCommitted(highWatermark) && request.offsetBytes === committedBytes, committedOffsetBytes: committedBytes, sourceInfo: info });
    const limitBytes = request.maxBytes === 0 ? Number.POSITIVE_INFINITY : request.offsetBytes + request.maxBytes;
    await this.stream(located, source, request.offsetBytes, limitBytes, pieceBytesMax);
  }

  private async stream(located: LocatedSession, source: UploadSource, fromBytes: number, limitBytes: number, pieceBytesMax: number): Promise<void> {
    const { request } = this.call;
    const { clock, stop } = this.context;
    const { log } = located.partition;
    let next = fromBytes;
    while (next < limitBytes && !stop.aborted && !this.call.cancelled) {
      const highWatermark = log.highWatermark();
      const committed = source.committedBytes(highWatermark);
      if (next < committed) {
        const end = Math.min(committed, limitBytes, next + pieceBytesMax);
        const payload = Buffer.concat(await located.partition.readSource(source, next, end, false));
        const final = source.finalCommitted(highWatermark) && end === committed;
        await this.write({ offsetBytes: next, payload, crc32c: crc32c(payload), final, committedOffsetBytes: committed, sourceInfo: undefined });
        next = end;
        continue;
      }
      const done = source.finalCommitted(highWatermark) || terminalSessionStates.has(located.session.state(highWatermark));
      if (!request.follow || done) return;
      await log.waitForChange(clock.nowMs() + this.context.leaders.settings.readFollowWaitMs, stop);
      log.assertLeading();
    }
  }

  /** Writes one message and waits for the transport to drain when it asks to. */
  private write(message: ReadSessionResponse): Promise<void> {
    if (this.call.write(message)) return Promise.resolve();
    // A cancelled call never drains: its end settles the wait too, and the loop then stops.
    return new Promise((resolve) => {
      const settle = (): void => {
        this.call.off('drain', settle);
        this.call.off('cancelled', settle);
        resolve();
      };
      this.call.once('drain', settle);
      this.call.once('cancelled', settle);
    });
  }
}
