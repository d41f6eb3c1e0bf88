import type { ServerWritableStream } from '@grpc/grpc-js';
import type { Clock } from '../../actors/clock.js';
import type { MetadataUpdate } from '../../actors/metadata-controller/metadata-delta-feed.js';
import type { MetadataDelta, MetadataState } from '../../controller/index.js';
import { type LeaderHint, TributaryError } from '../../errors/index.js';
import { toGrpcStatus } from '../error-status.js';
import {
  MetadataDelta as WireMetadataDelta,
  type WatchMetadataRequest,
  type WatchMetadataResponse,
} from '../generated/tributary/controller/v1/controller_broker_service.js';
import { toWireDelta } from './metadata-delta-mapping.js';

/** `max_message_bytes` when the watcher leaves it 0, and the smallest it may ask for. */
export const watchMessageBytesDefault = 1024 * 1024;
export const watchMessageBytesMin = 64 * 1024;
/** `heartbeat_interval_ms` when the watcher leaves it 0, and the bounds it is clamped to. */
export const watchHeartbeatIntervalMsDefault = 5_000;
export const watchHeartbeatIntervalMsMin = 50;
export const watchHeartbeatIntervalMsMax = 60_000;
/** How often a stream looks at the clock: for heartbeats, leader changes and catch-up deadlines. */
export const watchTickMsMax = 250;
/**
 * What one watcher may have written but not yet flushed to HTTP/2 (which holds it while the
 * watcher reads slowly). Beyond either bound the watcher is ended with RESOURCE_EXHAUSTED and
 * resumes from its version, rather than the controller buffering for it without bound.
 */
export const watchBacklogMessagesMax = 256;
export const watchBacklogBytesMax = 64 * 1024 * 1024;
/** How long a stream waits for this controller to reach a `from_version` it has not applied yet. */
export const watchCatchUpTimeoutMs = 10_000;
/**
 * A controller that has not heard from a leader for this long (partitioned, or no leader) ends its
 * streams, so watchers move to a controller that is current instead of waiting on this one.
 */
export const watchStalenessMsMax = 10_000;
/** Bytes a record adds to a message beyond its own encoding: field tag and length prefix. */
const recordFramingBytes = 6;

/** What a watch stream needs of the controller serving it. */
export interface WatchSource {
  readonly nodeId: number;
  readonly feed: { watch(fromVersion: number, watcher: (update: MetadataUpdate) => void): () => void };
  /** The applied state: every delta up to its version has been pushed through the feed. */
  readonly state: MetadataState;
  leaderHint(): LeaderHint;
  /** Milliseconds since this controller last heard from a leader; 0 on the leader. */
  stalenessMs(): number;
}

export interface WatchStreamSettings {
  readonly source: WatchSource;
  readonly clock: Clock;
  readonly clusterId: string;
  /** The server's own message bound: max_message_bytes is clamped below it. */
  readonly serverMessageBytesMax: number;
  readonly shutdownSignal: AbortSignal | undefined;
  /** Encodes a delta run once for all the streams it is pushed to. */
  readonly encode: (deltas: readonly MetadataDelta[]) => readonly WireRecord[];
}

/** A delta in wire form with its encoded size. */
export interface WireRecord {
  readonly version: number;
  readonly delta: WireMetadataDelta;
  readonly bytes: number;
}

/** Deltas of one apply, converted once: the feed pushes the same array to every watcher. */
export function createWireRecordCache(): (deltas: readonly MetadataDelta[]) => readonly WireRecord[] {
  const cache = new WeakMap<readonly MetadataDelta[], readonly WireRecord[]>();
  return (deltas) => {
    let records = cache.get(deltas);
    if (records === undefined) {
      records = deltas.flatMap((delta) => {
        const wire = toWireDelta(delta);
        return wire === undefined ? [] : [{ version: delta.version, delta: wire, bytes: WireMetadataDelta.encode(wire).finish().length + recordFramingBytes }];
      });
      cache.set(deltas, records);
    }
    return records;
  };
}

/**
 * One WatchMetadata stream (docs/CONTROLLER.md, ControllerBrokerService). It follows the
 * controller's delta feed from the watcher's version and keeps one invariant: every message
 * takes the watcher from the version the stream last brought it to (`sentVersion`) to one at
 * least as high, so versions are monotonic per stream whichever controller serves it. Deltas the
 * broker contract does not carry are skipped; the next heartbeat reports the version they reached.
 */
export class MetadataWatchStream {
  private readonly fromVersion: number;
  private readonly messageBytesMax: number;
  private readonly heartbeatIntervalMs: number;
  private sentVersion: number;
  /** Whether this controller has reached `fromVersion`; nothing is sent before. */
  private caughtUp = false;
  private written = false;
  private backlogMessages = 0;
  private backlogBytes = 0;
  private lastWriteMs: number;
  private lastLeader = -1;
  private readonly startedMs: number;
  private ended = false;
  private unsubscribe: (() => void) | undefined;
  private cancelTick: (() => void) | undefined;

  constructor(
    private readonly call: ServerWritableStream<WatchMetadataRequest, WatchMetadataResponse>,
    private readonly settings: WatchStreamSettings,
  ) {
    const request = call.request;
    this.fromVersion = request.fromVersion;
    this.sentVersion = request.fromVersion;
    const askedBytes = request.maxMessageBytes === 0 ? watchMessageBytesDefault : request.maxMessageBytes;
    this.messageBytesMax = Math.min(Math.max(askedBytes, watchMessageBytesMin), settings.serverMessageBytesMax);
    const askedInterval = request.heartbeatIntervalMs === 0 ? watchHeartbeatIntervalMsDefault : request.heartbeatIntervalMs;
    this.heartbeatIntervalMs = Math.min(Math.max(askedInterval, watchHeartbeatIntervalMsMin), watchHeartbeatIntervalMsMax);
    this.startedMs = settings.clock.nowMs();
    this.lastWriteMs = this.startedMs;
  }

  /** Starts following the feed; ends the call at once when the request is refused. */
  start(): void {
    try {
      this.checkRequest();
      this.call.on('cancelled', () => this.close());
      this.call.on('error', () => this.close());
      this.settings.shutdownSignal?.addEventListener('abort', this.onShutdown, { once: true });
      if (this.settings.shutdownSignal?.aborted === true) throw this.shutdownError();
      this.unsubscribe = this.settings.source.feed.watch(this.fromVersion, (update) => this.pushed(update));
      // The catch-up is pushed inside watch(): if it ended the stream, close() ran before there was anything to unsubscribe.
      if (this.ended) this.unsubscribe();
      this.caughtUp ||= this.fromVersion <= this.settings.source.state.version;
      // The first message tells the watcher the stream is live even when it is already current.
      if (this.caughtUp && !this.written) this.heartbeat();
      this.scheduleTick();
    } catch (error) {
      this.fail(error);
    }
  }

  /** A lagging controller may not know the watcher's registration yet, so only an older epoch is refused. */
  private checkRequest(): void {
    const { clusterId, nodeId, incarnationEpoch } = this.call.request;
    if (clusterId !== '' && clusterId !== this.settings.clusterId) {
      throw new TributaryError('INVALID_REQUEST', `WatchMetadata for cluster "${clusterId}" reached cluster "${this.settings.clusterId}"; check the controller addresses`);
    }
    const broker = nodeId === 0 ? undefined : this.settings.source.state.brokers.get(nodeId);
    if (broker !== undefined && incarnationEpoch < broker.brokerEpoch) {
      throw new TributaryError('FENCED', `broker ${nodeId} epoch ${incarnationEpoch} was replaced by epoch ${broker.brokerEpoch}; stop serving and register again`);
    }
  }

  private pushed(update: MetadataUpdate): void {
    if (this.ended) return;
    try {
      if (update.kind === 'image') this.pushImage(update.records, update.version);
      else this.pushDeltas(update.deltas, update.version);
    } catch (error) {
      this.fail(error);
    }
  }

  private pushImage(records: readonly MetadataDelta[], version: number): void {
    // While this controller is behind the watcher, an image would take the watcher backwards.
    if (version < this.sentVersion || (version === this.sentVersion && this.written)) return;
    const wire = this.settings.encode(records);
    const chunks = splitRecords(wire, this.messageBytesMax);
    chunks.forEach((chunk, position) => {
      const last = position === chunks.length - 1;
      const clusterId = position === 0 ? this.settings.clusterId : '';
      this.write({ kind: { $case: 'snapshot', value: { version, records: chunk.map((record) => record.delta), last, clusterId } } }, chunk);
    });
    this.reached(version);
  }

  private pushDeltas(deltas: readonly MetadataDelta[], version: number): void {
    if (version <= this.sentVersion) return;
    const visible = this.settings.encode(deltas).filter((record) => record.version > this.sentVersion);
    if (visible.length === 0) {
      this.caughtUp ||= version >= this.fromVersion;
      return;
    }
    const prevVersion = this.sentVersion;
    const chunks = splitRecords(visible, this.messageBytesMax);
    chunks.forEach((chunk, position) => {
      const more = position < chunks.length - 1;
      this.write({ kind: { $case: 'deltas', value: { prevVersion, version, deltas: chunk.map((record) => record.delta), more } } }, chunk);
    });
    this.reached(version);
  }

  private reached(version: number): void {
    this.sentVersion = version;
    this.caughtUp = true;
  }

  /**
   * Every change the stream carries is pushed as it is applied, so none lies between the last
   * message and the applied version: the watcher may adopt it.
   */
  private heartbeat(): void {
    const hint = this.settings.source.leaderHint();
    const version = Math.max(this.sentVersion, this.settings.source.state.version);
    this.lastLeader = hint.nodeId;
    this.write({ kind: { $case: 'heartbeat', value: { version, leaderId: hint.nodeId, term: hint.epoch } } }, []);
    this.sentVersion = version;
  }

  private write(message: WatchMetadataResponse, records: readonly WireRecord[]): void {
    const bytes = records.reduce((sum, record) => sum + record.bytes, recordFramingBytes);
    if (this.backlogMessages + 1 > watchBacklogMessagesMax || this.backlogBytes + bytes > watchBacklogBytesMax) {
      throw new TributaryError(
        'RESOURCE_EXHAUSTED',
        `metadata watcher fell behind: ${this.backlogMessages} messages (${this.backlogBytes} bytes) unread, at most ${watchBacklogMessagesMax} (${watchBacklogBytesMax} bytes); resume from version ${this.sentVersion}`,
        { retriable: true },
      );
    }
    this.backlogMessages += 1;
    this.backlogBytes += bytes;
    this.written = true;
    this.lastWriteMs = this.settings.clock.nowMs();
    this.call.write(message, () => {
      this.backlogMessages -= 1;
      this.backlogBytes -= bytes;
    });
  }

  private scheduleTick(): void {
    if (this.ended) return;
    this.cancelTick = this.settings.clock.setTimer(Math.min(this.heartbeatIntervalMs, watchTickMsMax), () => {
      try {
        this.tick();
        this.scheduleTick();
      } catch (error) {
        this.fail(error);
      }
    });
  }

  private tick(): void {
    const nowMs = this.settings.clock.nowMs();
    if (!this.caughtUp) {
      if (nowMs - this.startedMs < watchCatchUpTimeoutMs) return;
      throw new TributaryError('NOT_AVAILABLE', `controller ${this.settings.source.nodeId} has not reached metadata version ${this.fromVersion} within ${watchCatchUpTimeoutMs} ms; watch from another controller`);
    }
    const stalenessMs = this.settings.source.stalenessMs();
    if (stalenessMs > watchStalenessMsMax) {
      throw new TributaryError('NOT_AVAILABLE', `controller ${this.settings.source.nodeId} has not heard from a controller leader for over ${watchStalenessMsMax} ms; resume the watch from version ${this.sentVersion} on another controller`);
    }
    const leaderChanged = this.settings.source.leaderHint().nodeId !== this.lastLeader;
    if (leaderChanged || nowMs - this.lastWriteMs >= this.heartbeatIntervalMs) this.heartbeat();
  }

  private readonly onShutdown = (): void => this.fail(this.shutdownError());

  private shutdownError(): TributaryError {
    return new TributaryError('SHUTTING_DOWN', `controller ${this.settings.source.nodeId} is shutting down; resume the watch from version ${this.sentVersion} on another controller`);
  }

  private fail(error: unknown): void {
    if (this.ended) return;
    this.close();
    this.call.emit('error', toGrpcStatus(error));
  }

  private close(): void {
    this.ended = true;
    this.unsubscribe?.();
    this.cancelTick?.();
    this.settings.shutdownSignal?.removeEventListener('abort', this.onShutdown);
  }
}

/** Cuts records into runs of at most `bytesMax` encoded bytes; a record larger than that goes alone. */
function splitRecords(records: readonly WireRecord[], bytesMax: number): WireRecord[][] {
  const chunks: WireRecord[][] = [];
  let current: WireRecord[] = [];
  let currentBytes = 0;
  for (const record of records) {
    if (current.length > 0 && currentBytes + record.bytes > bytesMax) {
      chunks.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(record);
    currentBytes += record.bytes;
  }
  if (current.length > 0 || chunks.length === 0) chunks.push(current);
  return chunks;
}
