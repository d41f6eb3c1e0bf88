import type { ServerDuplexStream } from '@grpc/grpc-js';
import { TributaryError } from '../../errors/index.js';
import { formatPartition } from '../../storage/index.js';
import { toGrpcStatus } from '../error-status.js';
import type { ProduceResult, ProduceStreamAppend, ProduceStreamOpen, ProduceStreamRequest, ProduceStreamResponse } from '../generated/tributary/client/v1/producer_service.js';
import type { BrokerPartitions } from './broker-partitions.js';
import type { BrokerServiceSettings } from './broker-service-settings.js';
import { addressedBatchOf, type PartitionBatchAppender, type ProduceMode, produceModeOf } from './partition-batch-appender.js';

export interface ProduceStreamContext {
  readonly partitions: BrokerPartitions;
  readonly appender: PartitionBatchAppender;
  readonly settings: BrokerServiceSettings;
}

/**
 * One ProduceStream (docs/PROTOCOL.md §8, "Produce and fetch on a broker"): `open` fixes acks and timeout and is
 * answered with the in-flight window; each `append` is started at once, in arrival order, and its
 * result written after every earlier result of the same partition, so one partition's results
 * come in request order while partitions overtake each other. A request is in flight until its
 * result is written; breaking the window, repeating an in-flight correlation id or a malformed
 * message ends the stream with an error naming the value. A half-close is answered once every
 * in-flight result is written.
 */
export class ProduceStream {
  private mode: ProduceMode | undefined;
  /** Bytes of each in-flight request by correlation id. */
  private readonly inFlight = new Map<number, number>();
  private inFlightBytes = 0;
  /** Per partition, the write of its latest result: the next result of that partition waits for it. */
  private readonly resultTails = new Map<string, Promise<void>>();
  private halfClosed = false;
  private ended = false;

  constructor(
    private readonly call: ServerDuplexStream<ProduceStreamRequest, ProduceStreamResponse>,
    private readonly context: ProduceStreamContext,
  ) {}

  start(): void {
    this.call.on('data', (request: ProduceStreamRequest) => this.received(request));
    this.call.on('end', () => this.halfClose());
    this.call.on('cancelled', () => this.endWith(() => undefined));
    this.call.on('error', () => this.endWith(() => undefined));
    const { shutdownSignal } = this.context.partitions;
    shutdownSignal.addEventListener('abort', this.onShutdown, { once: true });
    if (shutdownSignal.aborted) this.onShutdown();
  }

  private received(request: ProduceStreamRequest): void {
    if (this.ended) return;
    try {
      const kind = request.kind;
      if (kind === undefined) throw new TributaryError('INVALID_REQUEST', 'a ProduceStream message carries neither open nor append');
      if (kind.$case === 'open') this.open(kind.value);
      else this.append(kind.value);
    } catch (error) {
      this.fail(error);
    }
  }

  private open(open: ProduceStreamOpen): void {
    if (this.mode !== undefined) throw new TributaryError('INVALID_REQUEST', 'ProduceStream got a second open; only the first message carries open');
    this.context.partitions.assertServing();
    const { settings, partitions } = this.context;
    this.mode = produceModeOf(open.acks, open.timeoutMs, settings);
    this.call.write({
      kind: { $case: 'opened', value: { maxInFlightRequests: settings.streamInFlightRequestsMax, maxInFlightBytes: settings.streamInFlightBytesMax, nodeId: partitions.nodeId } },
    });
  }

  private append(append: ProduceStreamAppend): void {
    const mode = this.mode;
    if (mode === undefined) throw new TributaryError('INVALID_REQUEST', 'ProduceStream got an append before open; the first message must carry open');
    const { correlationId } = append;
    if (this.inFlight.has(correlationId)) throw new TributaryError('INVALID_REQUEST', `correlation_id ${correlationId} is already in flight on this stream; use a new id per append`);
    const addressed = addressedBatchOf(append.partitionBatch, `append ${correlationId}`);
    const bytes = addressed.batch.records.byteLength;
    this.admit(correlationId, bytes);
    this.inFlight.set(correlationId, bytes);
    this.inFlightBytes += bytes;
    const key = formatPartition(addressed.topicPartition);
    const outcome = this.context.appender.result(addressed, mode);
    const tail = Promise.all([this.resultTails.get(key), outcome]).then(([, result]) => this.answer(correlationId, result));
    this.resultTails.set(key, tail);
    void tail.then(() => {
      if (this.resultTails.get(key) === tail) this.resultTails.delete(key);
    });
  }

  /** The window of ProduceStreamOpened; a single request larger than the byte bound goes only alone. */
  private admit(correlationId: number, bytes: number): void {
    const { streamInFlightRequestsMax, streamInFlightBytesMax } = this.context.settings;
    if (this.inFlight.size + 1 > streamInFlightRequestsMax) {
      throw new TributaryError('RESOURCE_EXHAUSTED', `append ${correlationId} would be request ${this.inFlight.size + 1} in flight; the window is ${streamInFlightRequestsMax} requests, so wait for results first`, { retriable: false });
    }
    if (this.inFlight.size > 0 && this.inFlightBytes + bytes > streamInFlightBytesMax) {
      throw new TributaryError('RESOURCE_EXHAUSTED', `append ${correlationId} of ${bytes} bytes would put ${this.inFlightBytes + bytes} bytes in flight; the window is ${streamInFlightBytesMax} bytes, so wait for results first`, { retriable: false });
    }
  }

  private answer(correlationId: number, result: ProduceResult): void {
    if (this.ended) return;
    this.inFlightBytes -= this.inFlight.get(correlationId) ?? 0;
    this.inFlight.delete(correlationId);
    this.call.write({ kind: { $case: 'result', value: { correlationId, result } } });
    if (this.halfClosed && this.inFlight.size === 0) this.finish();
  }

  private halfClose(): void {
    this.halfClosed = true;
    if (this.inFlight.size === 0) this.finish();
  }

  private finish(): void {
    this.endWith(() => this.call.end());
  }

  private readonly onShutdown = (): void => {
    this.fail(new TributaryError('SHUTTING_DOWN', `broker ${this.context.partitions.nodeId} is shutting down; ${this.inFlight.size} appends in flight have an unknown outcome, retry them with the partitions' leaders`));
  };

  private fail(error: unknown): void {
    this.endWith(() => this.call.emit('error', toGrpcStatus(error)));
  }

  /** Ends the stream once, however many reasons arrive; `how` tells the client (nothing when it went away). */
  private endWith(how: () => void): void {
    if (this.ended) return;
    this.ended = true;
    this.context.partitions.shutdownSignal.removeEventListener('abort', this.onShutdown);
    how();
  }
}
