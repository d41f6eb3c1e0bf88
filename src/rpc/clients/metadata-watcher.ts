import type { ClientReadableStream, ServiceError } from '@grpc/grpc-js';
import { TributaryError } from '../../errors/index.js';
import { fromGrpcError } from '../error-status.js';
import {
  ControllerBrokerServiceClient,
  type MetadataDeltaBatch,
  type MetadataHeartbeat,
  type MetadataSnapshotChunk,
  type WatchMetadataResponse,
} from '../generated/tributary/controller/v1/controller_broker_service.js';
import { backoffDelayMs, type BackoffLimits } from './backoff-delay-ms.js';
import { callMetadata, channelCredentialsFor, type ClientOptions } from './client-options.js';
import { type MetadataRecord, metadataRecordFromProto } from './metadata-record-mapping.js';
import { newRequestHeader } from './request-header.js';

/** What a watch delivers, in order: each update takes the watcher from its version to `version`. */
export type MetadataWatchUpdate =
  /** The whole metadata at `version`: replace the view with these records. */
  | { kind: 'image'; version: number; records: MetadataRecord[] }
  /** The changes from `prevVersion` (the watcher's version) to `version`, in apply order. */
  | { kind: 'deltas'; prevVersion: number; version: number; records: MetadataRecord[] }
  /** Nothing the watcher sees changed up to `version`; `leaderId` leads the quorum in `term` (0 during an election). */
  | { kind: 'heartbeat'; version: number; leaderId: number; term: number };

export interface MetadataWatchOptions {
  /** The watching broker (0 or absent for tools): a replaced incarnation is refused with FENCED. */
  nodeId?: number;
  brokerEpoch?: number;
  /** The cluster the watcher belongs to; a controller of another cluster is refused. */
  clusterId?: string;
  /** How often an idle stream should show it is alive; the server clamps it. */
  heartbeatIntervalMs?: number;
  /** Largest stream message; larger images and runs are split (and reassembled here). The server clamps it. */
  maxMessageBytes?: number;
  /** Told once when the watch stops for good: FENCED, a wrong cluster, or reconnectsMax failures in a row. */
  onError?: (error: TributaryError) => void;
}

export interface MetadataWatchPolicy extends BackoffLimits {
  /** Consecutive failed streams (no message received) before the watch gives up. */
  readonly reconnectsMax: number;
}

export const metadataWatchDefaults: MetadataWatchPolicy = { reconnectsMax: 100, backoffMsMin: 50, backoffMsMax: 2_000 };
/** Records of one image or one split delta run held until its last message arrives. */
export const pendingRecordsMax = 1_000_000;

/** Codes after which reconnecting cannot help: the watcher must act (re-register, fix its config). */
const terminalCodes = new Set(['FENCED', 'INVALID_REQUEST', 'VERSION_MISMATCH', 'UNAUTHENTICATED', 'PERMISSION_DENIED']);

/** A running watch. */
export interface MetadataWatch {
  /** The version the watcher has been brought to: what a restarted watch resumes from. */
  readonly version: number;
  close(): void;
}

/**
 * Follows WatchMetadata across the quorum: streams from one controller, and when the stream ends
 * (controller down or shutting down, leader change, RESOURCE_EXHAUSTED for a slow reader, a gap
 * in versions) reconnects with backoff to the leader it last heard of, or the next controller,
 * resuming from the last version it completed. Images and split delta runs are assembled before
 * they are delivered, so `onUpdate` only ever sees whole versions.
 */
export class MetadataWatcher implements MetadataWatch {
  private current: number;
  /** The open stream and its own channel: a long-lived stream is worth a connection of its own. */
  private stream: { call: ClientReadableStream<WatchMetadataResponse>; client: ControllerBrokerServiceClient } | undefined;
  private closed = false;
  private failures = 0;
  private readonly addresses: string[];
  private position = 0;
  private leaderId = 0;
  private readonly controllerAddresses = new Map<number, string>();
  private pending: { kind: 'image' | 'deltas'; version: number; prevVersion: number; records: MetadataRecord[] } | undefined;
  private cancelRetry: (() => void) | undefined;

  constructor(
    bootstrap: readonly string[],
    fromVersion: number,
    private readonly onUpdate: (update: MetadataWatchUpdate) => void,
    private readonly clientOptions: ClientOptions,
    private readonly options: MetadataWatchOptions = {},
    private readonly policy: MetadataWatchPolicy = metadataWatchDefaults,
    /** Told once when the watch closes, whatever closed it: its owner forgets it. */
    private readonly onClosed: () => void = () => undefined,
  ) {
    if (bootstrap.length === 0) throw new TributaryError('INVALID_REQUEST', 'a metadata watch needs at least one controller address');
    this.addresses = [...bootstrap];
    this.current = fromVersion;
    this.connect();
  }

  get version(): number {
    return this.current;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.cancelRetry?.();
    this.stop();
    this.onClosed();
  }

  private connect(): void {
    const address = this.addresses[this.position % this.addresses.length] ?? '';
    const request = {
      header: newRequestHeader(this.clientOptions.clientId),
      nodeId: this.options.nodeId ?? 0,
      incarnationEpoch: this.options.brokerEpoch ?? 0,
      fromVersion: this.current,
      maxMessageBytes: this.options.maxMessageBytes ?? 0,
      heartbeatIntervalMs: this.options.heartbeatIntervalMs ?? 0,
      clusterId: this.options.clusterId ?? '',
    };
    const client = new ControllerBrokerServiceClient(address, channelCredentialsFor(this.clientOptions.tls));
    const call = client.watchMetadata(request, callMetadata(this.clientOptions));
    const stream = { call, client };
    this.stream = stream;
    this.pending = undefined;
    call.on('data', (response: WatchMetadataResponse) => {
      if (this.stream === stream) this.received(response);
    });
    call.on('error', (error: ServiceError) => {
      if (this.stream === stream) this.streamEnded(fromGrpcError(error));
    });
    call.on('end', () => {
      if (this.stream === stream) this.streamEnded(new TributaryError('NOT_AVAILABLE', `controller ${address} ended the metadata stream`));
    });
  }

  private received(response: WatchMetadataResponse): void {
    try {
      const kind = response.kind;
      if (kind?.$case === 'snapshot') this.snapshotChunk(kind.value);
      else if (kind?.$case === 'deltas') this.deltaBatch(kind.value);
      else if (kind?.$case === 'heartbeat') this.heartbeat(kind.value);
    } catch (error) {
      this.fail(TributaryError.from(error));
    }
  }

  private snapshotChunk(chunk: MetadataSnapshotChunk): void {
    if (this.pending?.kind !== 'image' || this.pending.version !== chunk.version) {
      this.pending = { kind: 'image', version: chunk.version, prevVersion: this.current, records: [] };
    }
    this.collect(chunk.records.map(metadataRecordFromProto));
    if (!chunk.last) return;
    const { records } = this.pending;
    this.pending = undefined;
    this.deliver({ kind: 'image', version: chunk.version, records }, chunk.version);
  }

  private deltaBatch(batch: MetadataDeltaBatch): void {
    const continues = this.pending?.kind === 'deltas' && this.pending.version === batch.version && this.pending.prevVersion === batch.prevVersion;
    if (!continues && (this.pending !== undefined || batch.prevVersion !== this.current)) {
      // A gap: resume from what we have rather than apply changes to the wrong base.
      this.streamEnded(new TributaryError('NOT_AVAILABLE', `the metadata stream jumped from version ${batch.prevVersion} while this watcher is at ${this.current}`));
      return;
    }
    this.pending ??= { kind: 'deltas', version: batch.version, prevVersion: batch.prevVersion, records: [] };
    this.collect(batch.deltas.map(metadataRecordFromProto));
    if (batch.more) return;
    const { records, prevVersion } = this.pending;
    this.pending = undefined;
    this.deliver({ kind: 'deltas', prevVersion, version: batch.version, records }, batch.version);
  }

  private heartbeat(heartbeat: MetadataHeartbeat): void {
    this.leaderId = heartbeat.leaderId;
    const version = Math.max(this.current, heartbeat.version);
    this.deliver({ kind: 'heartbeat', version, leaderId: heartbeat.leaderId, term: heartbeat.term }, version);
  }

  private collect(records: MetadataRecord[]): void {
    if (this.pending === undefined) return;
    if (this.pending.records.length + records.length > pendingRecordsMax) {
      throw new TributaryError('RESOURCE_EXHAUSTED', `a metadata image or delta run holds more than ${pendingRecordsMax} records; this client cannot buffer it`);
    }
    this.pending.records.push(...records);
    for (const record of records) this.learnControllers(record);
  }

  private learnControllers(record: MetadataRecord): void {
    if (record.kind !== 'controllersChanged') return;
    for (const controller of record.controllers) {
      this.controllerAddresses.set(controller.nodeId, controller.address);
      if (!this.addresses.includes(controller.address)) this.addresses.push(controller.address);
    }
  }

  private deliver(update: MetadataWatchUpdate, version: number): void {
    this.current = version;
    this.failures = 0;
    this.onUpdate(update);
  }

  private streamEnded(error: TributaryError): void {
    this.stop();
    if (this.closed) return;
    if (terminalCodes.has(error.code)) {
      this.fail(error);
      return;
    }
    this.failures += 1;
    if (this.failures > this.policy.reconnectsMax) {
      this.fail(new TributaryError('NOT_AVAILABLE', `the metadata watch failed ${this.failures} times in a row over ${this.addresses.join(', ')}: ${error.message}`, { cause: error }));
      return;
    }
    this.moveOn();
    const delayMs = Math.max(error.retryAfterMs, backoffDelayMs(this.failures, this.policy, Math.random));
    const timer = setTimeout(() => {
      this.cancelRetry = undefined;
      if (!this.closed) this.connect();
    }, delayMs);
    this.cancelRetry = () => clearTimeout(timer);
  }

  /** Next: the leader the last heartbeat named, when its address is known; else the next controller. */
  private moveOn(): void {
    const leaderAddress = this.controllerAddresses.get(this.leaderId);
    const failed = this.addresses[this.position % this.addresses.length];
    const leaderPosition = leaderAddress === undefined ? -1 : this.addresses.indexOf(leaderAddress);
    this.position = leaderPosition >= 0 && leaderAddress !== failed ? leaderPosition : this.position + 1;
    this.leaderId = 0;
  }

  private stop(): void {
    const stream = this.stream;
    this.stream = undefined;
    stream?.call.cancel();
    stream?.client.close();
  }

  private fail(error: TributaryError): void {
    this.close();
    this.options.onError?.(error);
  }
}
