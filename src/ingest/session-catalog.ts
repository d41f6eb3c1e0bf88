import type { PayloadKind, SessionState } from './ingest-types.js';

/** A session as the controller's catalog records it (DESIGN.md §5): what ListSessions serves from any broker. */
export interface CatalogEntry {
  readonly deviceId: string;
  readonly sessionId: string;
  readonly state: SessionState;
  readonly topic: string;
  readonly partition: number;
  readonly committedLength: number;
  /** Lowercase hex session digest once complete; '' before. */
  readonly digest: string;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
  readonly expiresAtMs: number;
  /** Why a failed, expired or terminated session ended; '' otherwise. */
  readonly failure: string;
  readonly sources: ReadonlyArray<{ readonly name: string; readonly contentType: string; readonly payloadKind: PayloadKind; readonly committedBytes: number; readonly final: boolean }>;
}

/** Records sessions in the controller's catalog (a ControllerBrokerService call in production). */
export interface SessionCatalog {
  record(entry: CatalogEntry): Promise<void>;
}
