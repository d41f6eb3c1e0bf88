import type { PartitionId } from './partition-id.js';

/** Where an upload session is in its lifecycle (the device-session actor; ingest_types.proto SessionState). */
export type UploadSessionState = 'open' | 'receiving' | 'committing' | 'complete' | 'expired' | 'failed' | 'terminated';

export interface UploadSessionEntry {
  readonly deviceId: string;
  readonly sessionId: string;
  /** The partition the session's chunks are placed on. */
  readonly partition: PartitionId;
  /** Committed (replicated, durable) byte offset per source name: what GetOffset answers. */
  readonly committedOffsetBySource: Readonly<Record<string, number>>;
  readonly state: UploadSessionState;
}

/** Upload sessions by device id and session id. Writes resolve once durable. */
export interface UploadSessionIndexStore {
  get(deviceId: string, sessionId: string): Promise<UploadSessionEntry | undefined>;
  put(entry: UploadSessionEntry): Promise<void>;
  delete(deviceId: string, sessionId: string): Promise<void>;
  /** One device's sessions, or every device's when `deviceId` is omitted, in key order (storage-keys.ts). */
  list(deviceId?: string): Promise<UploadSessionEntry[]>;
}
