import type { ClientDuplexStream, ServiceError } from '@grpc/grpc-js';
import { TributaryError } from '../../errors/index.js';
import { fromErrorDetail, fromGrpcError } from '../error-status.js';
import type {
  Acks, PartitionBatch, ProduceStreamOpened, ProduceStreamRequest, ProduceStreamResponse, ProduceStreamResult,
} from '../generated/tributary/client/v1/producer_service.js';
import type { ProducedBatch } from './producer-client.js';
import { ProduceStreamWindow } from './produce-stream-window.js';
import { newRequestHeader } from './request-header.js';

/**
 * Appends one produce stream holds locally, beyond the broker's window, before refusing more. The
 * Producer keeps one batch in flight per partition, so this is only reached by far more partitions
 * on one broker than a producer writes.
 */
export const produceStreamQueuedMax = 4_096;

/**
 * How long a stream with nothing queued or in flight stays open. An open call keeps grpc-js's
 * connection, and so the process, alive; this is longer than the Producer's linger and retry
 * backoff (at most 1 s by default), so a busy producer keeps its stream, and short enough that a
 * program which never closes its producer still exits soon after its last send.
 */
export const produceStreamIdleCloseMs = 3_000;

export interface ProduceStreamChannelOptions {
  /** The broker, for error messages. */
  readonly address: string;
  /** Goes in the `open` message's RequestHeader. */
  readonly clientId: string;
  readonly acks: Acks;
  /** How long the leader may wait for each append's acks; 0 = the server's default. */
  readonly ackTimeoutMs: number;
  /** Bound on waiting for `opened` after the call starts. */
  readonly openTimeoutMs: number;
  /** Bound on waiting for one append's result, from the `append` call. */
  readonly resultTimeoutMs: number;
  readonly queuedMax: number;
  readonly idleCloseMs: number;
}

interface PendingAppend {
  readonly partitionBatch: PartitionBatch;
  readonly resolve: (produced: ProducedBatch) => void;
  readonly reject: (error: TributaryError) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * ONE ProduceStream call to one broker, for one acks and ack timeout (docs/PROTOCOL.md §8): the
 * SDK's Produce without grpc-js's per-call cost. `open` is sent at once and answered by the
 * broker's window; appends are sent IN CALL ORDER as the window allows (ProduceStreamWindow),
 * since the broker appends one partition's batches in the order they arrive, and are settled by
 * the result echoing their correlation id. A failed append does not end the stream.
 * Anything that breaks the stream (its status, an end the client did not ask for, a result nobody
 * awaits, a late `opened` or a late result) fails EVERY append it holds and leaves it dead: its
 * owner opens a new one. A result on one stream can only come after the earlier results of its
 * partition, so one missing result makes the stream unusable.
 */
export class ProduceStreamChannel {
  private readonly window: ProduceStreamWindow<PendingAppend>;
  private readonly openTimer: NodeJS.Timeout;
  private idleTimer: NodeJS.Timeout | undefined;
  private opened = false;
  private failure: TributaryError | undefined;

  constructor(
    private readonly call: ClientDuplexStream<ProduceStreamRequest, ProduceStreamResponse>,
    private readonly options: ProduceStreamChannelOptions,
  ) {
    this.window = new ProduceStreamWindow(options.queuedMax);
    this.call.on('data', (response: ProduceStreamResponse) => this.received(response));
    // grpc-js emits 'error' before 'status' for a failed call, so the server's code wins.
    this.call.on('error', (error: ServiceError) => this.fail(this.streamError(fromGrpcError(error))));
    this.call.on('status', () => this.fail(new TributaryError('NOT_AVAILABLE', `the broker at ${options.address} ended the produce stream`)));
    this.openTimer = setTimeout(() => {
      this.fail(new TributaryError('TIMEOUT', `the broker at ${options.address} did not open the produce stream within ${options.openTimeoutMs} ms`));
    }, options.openTimeoutMs);
    this.call.write({ header: newRequestHeader(options.clientId), kind: { $case: 'open', value: { acks: options.acks, timeoutMs: options.ackTimeoutMs } } });
    this.armIdleClose();
  }

  /** Whether appends may still go on this stream; a dead one is replaced by its owner. */
  get usable(): boolean {
    return this.failure === undefined;
  }

  /** Sends one batch in call order; settles with its result, or with the failure of the stream. */
  append(partitionBatch: PartitionBatch): Promise<ProducedBatch> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const bytes = partitionBatch.batch?.records.byteLength ?? 0;
      let correlationId = 0;
      const timer = setTimeout(() => this.expired(correlationId), this.options.resultTimeoutMs);
      try {
        correlationId = this.window.enqueue(bytes, { partitionBatch, resolve, reject, timer });
      } catch (error) {
        clearTimeout(timer);
        reject(TributaryError.from(error));
        return;
      }
      clearTimeout(this.idleTimer);
      this.sendReady();
    });
  }

  /** Ends the call at once; appends not yet settled fail with a retriable NOT_AVAILABLE. */
  close(): void {
    this.fail(new TributaryError('NOT_AVAILABLE', `the produce stream to ${this.options.address} was closed before the append's result arrived`));
  }

  private received(response: ProduceStreamResponse): void {
    if (this.failure !== undefined) return;
    const kind = response.kind;
    if (kind?.$case === 'opened') this.openedWith(kind.value);
    else if (kind?.$case === 'result') this.settled(kind.value);
    else this.fail(new TributaryError('NOT_AVAILABLE', `the broker at ${this.options.address} sent a produce stream message with neither opened nor result`));
  }

  private openedWith(opened: ProduceStreamOpened): void {
    if (this.opened) {
      this.fail(new TributaryError('NOT_AVAILABLE', `the broker at ${this.options.address} opened the produce stream twice`));
      return;
    }
    this.opened = true;
    clearTimeout(this.openTimer);
    try {
      this.window.open({ requestsMax: opened.maxInFlightRequests, bytesMax: opened.maxInFlightBytes });
    } catch (error) {
      this.fail(retriable(TributaryError.from(error)));
      return;
    }
    this.sendReady();
  }

  private settled({ correlationId, result }: ProduceStreamResult): void {
    const entry = this.window.settle(correlationId);
    if (entry === undefined) {
      this.fail(new TributaryError('NOT_AVAILABLE', `the broker at ${this.options.address} sent a result for correlation id ${correlationId}, which is not in flight`));
      return;
    }
    const pending = entry.item;
    clearTimeout(pending.timer);
    if (result === undefined) pending.reject(new TributaryError('NOT_AVAILABLE', `the broker at ${this.options.address} answered append ${correlationId} without an outcome`));
    else if (result.error !== undefined) pending.reject(fromErrorDetail(result.error));
    else pending.resolve({ baseOffset: result.baseOffset, logAppendTimeMs: result.logAppendTimeMs, logStartOffset: result.logStartOffset, duplicate: result.duplicate });
    this.sendReady();
    this.armIdleClose();
  }

  /** Writes what the window lets go, in call order. */
  private sendReady(): void {
    for (const { correlationId, item } of this.window.takeSendable()) {
      this.call.write({ kind: { $case: 'append', value: { correlationId, partitionBatch: item.partitionBatch } } });
    }
  }

  /**
   * An append's result is late. Its outcome is unknown and every later result of its partition
   * waits behind it, so the stream fails. (A queued append is never the first to run out of time:
   * everything sent before it was appended earlier, with the same bound.)
   */
  private expired(correlationId: number): void {
    const { address, resultTimeoutMs } = this.options;
    this.fail(new TributaryError('TIMEOUT', `the broker at ${address} did not answer append ${correlationId} within ${resultTimeoutMs} ms; its outcome is unknown`));
  }

  /**
   * Closes an idle stream after idleCloseMs, so that an open call does not keep the process alive
   * for good. The timer itself is unref'd: the call, not the timer, decides whether the process waits.
   */
  private armIdleClose(): void {
    clearTimeout(this.idleTimer);
    if (this.failure !== undefined || !this.window.idle) return;
    this.idleTimer = setTimeout(() => {
      this.fail(new TributaryError('NOT_AVAILABLE', `the produce stream to ${this.options.address} was closed after ${this.options.idleCloseMs} ms idle`));
    }, this.options.idleCloseMs);
    this.idleTimer.unref();
  }

  /**
   * A failure of the call itself. Before `opened`, a refusal the broker marked final
   * (authentication, API version, a broker without ProduceStream) stays final: a new stream would
   * be refused alike. Otherwise what was in flight has an unknown outcome that a retry on a new
   * stream settles, so the failure is retriable whatever its code.
   */
  private streamError(error: TributaryError): TributaryError {
    return !this.opened && !error.retriable ? error : retriable(error);
  }

  private fail(error: TributaryError): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    clearTimeout(this.openTimer);
    clearTimeout(this.idleTimer);
    for (const { item } of this.window.takeAll()) {
      clearTimeout(item.timer);
      item.reject(error);
    }
    this.call.cancel();
  }
}

function retriable(error: TributaryError): TributaryError {
  if (error.retriable) return error;
  return new TributaryError(error.code, error.message, { retriable: true, retryAfterMs: error.retryAfterMs, leaderHint: error.leaderHint, cause: error });
}
