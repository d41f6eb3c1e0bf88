/** The bounds and defaults of a broker's DataIngestService (docs/INGEST.md, "Limits"). */
export interface IngestSettings {
  /** The ingest topic a CreateSession without `topic` uses; created on first use. */
  readonly defaultTopic: string;
  /** Partitions of an ingest topic the broker creates. */
  readonly topicPartitions: number;
  /** Its replication factor when that many brokers are registered; fewer brokers give fewer replicas. */
  readonly topicReplicationFactorMax: number;
  /** Largest payload of one chunk (CreateSessionResponse.max_chunk_bytes). */
  readonly maxChunkBytes: number;
  /** When a collector should half-close an Upload call (CreateSessionResponse.recommended_call_bytes). */
  readonly recommendedCallBytes: number;
  readonly sessionLifetimeMsDefault: number;
  readonly sessionLifetimeMsMax: number;
  readonly idleTimeoutMsDefault: number;
  readonly idleTimeoutMsMax: number;
  /** How long an append waits for the in-sync replicas (then TIMEOUT; it may still commit). */
  readonly appendTimeoutMs: number;
  /** Bytes of one Upload call received and not yet committed; beyond it the broker stops reading (HTTP/2 flow control does the rest). */
  readonly callUncommittedBytesMax: number;
  /** The same bound for all Upload calls of the broker together (UploadByteBudget). */
  readonly nodeUncommittedBytesMax: number;
  /** Longest GetOffset long poll. */
  readonly getOffsetWaitMsMax: number;
  /** How long ReadSession with follow waits for new bytes before looking again. */
  readonly readFollowWaitMs: number;
  /** Bytes per read while a new leader replays an ingest partition. */
  readonly replayReadBytes: number;
  /** How often the leader of an ingest partition looks for sessions to expire or complete. */
  readonly sweepIntervalMs: number;
}

const mebibyte = 1024 * 1024;
const dayMs = 24 * 60 * 60 * 1000;

export const ingestSettingsDefaults: IngestSettings = {
  defaultTopic: 'ingest',
  topicPartitions: 6,
  topicReplicationFactorMax: 3,
  maxChunkBytes: 4 * mebibyte,
  recommendedCallBytes: 64 * mebibyte,
  sessionLifetimeMsDefault: 7 * dayMs,
  sessionLifetimeMsMax: 30 * dayMs,
  idleTimeoutMsDefault: dayMs,
  idleTimeoutMsMax: 7 * dayMs,
  appendTimeoutMs: 30_000,
  callUncommittedBytesMax: 32 * mebibyte,
  nodeUncommittedBytesMax: 128 * mebibyte,
  getOffsetWaitMsMax: 30_000,
  readFollowWaitMs: 5_000,
  replayReadBytes: 8 * mebibyte,
  sweepIntervalMs: 1_000,
};

/** Record bytes an ingest topic's batches may take: one chunk and its headers. */
export function ingestTopicMaxMessageBytes(settings: IngestSettings): number {
  return settings.maxChunkBytes + 64 * 1024;
}
