/*
 * The upload-session domain (DESIGN.md §7, docs/INGEST.md): plain types, not protobuf ones;
 * rpc/services/data-ingest-* maps between them and the wire.
 */

/** The payload variant every chunk of a source uses (ingest_types.proto PayloadKind). */
export type PayloadKind = 'binary' | 'json' | 'sensor';
export const payloadKinds: readonly PayloadKind[] = ['binary', 'json', 'sensor'];

/** A sensor source's declared shape (SensorDescriptor); `kind` is the wire enum's number. */
export interface SensorShape {
  readonly kind: number;
  readonly channelCount: number;
  readonly units: readonly string[];
  readonly channelNames: readonly string[];
  readonly nominalRateHz: number;
}

/** One named byte stream of a session, as the device declared it. */
export interface SourceSpec {
  readonly name: string;
  readonly contentType: string;
  readonly payloadKind: PayloadKind;
  /** Exact length when known up front; the final chunk must end there. */
  readonly declaredLengthBytes?: number | undefined;
  readonly sensor?: SensorShape | undefined;
}

/** A session as CreateSession declared it, with the broker's effective times. */
export interface SessionDeclaration {
  readonly deviceId: string;
  readonly sessionId: string;
  readonly sources: readonly SourceSpec[];
  readonly metadata: Readonly<Record<string, string>>;
  readonly createdAtMs: number;
  /** Hard deadline: a session not complete by then expires. */
  readonly expiresAtMs: number;
  /** A session in which nothing commits for this long expires. */
  readonly idleTimeoutMs: number;
}

/** Where a session is in its lifecycle (ingest_types.proto SessionState). */
export type SessionState = 'open' | 'receiving' | 'committing' | 'complete' | 'expired' | 'failed' | 'terminated';
export type TerminalSessionState = 'complete' | 'expired' | 'failed' | 'terminated';
export const terminalSessionStates: ReadonlySet<SessionState> = new Set<SessionState>(['complete', 'expired', 'failed', 'terminated']);

/** How a session ended, as its end record says. */
export interface SessionEnd {
  readonly state: TerminalSessionState;
  /** Why, for failed, expired and terminated sessions ('' for complete). */
  readonly reason: string;
  /** The error code of a failure (e.g. DIGEST_MISMATCH); '' when none. */
  readonly failureCode: string;
  /** Lowercase hex session digest (session-digest.ts) of a complete session; '' otherwise. */
  readonly sessionSha256Hex: string;
  readonly endedAtMs: number;
}

/** The committed progress of one source: what acknowledgements and GetOffset report. */
export interface SourceProgress {
  readonly source: string;
  readonly committedBytes: number;
  readonly final: boolean;
}

/** An incremental SHA-256 (node:crypto's Hash in production), injected so the core stays pure. */
export interface IncrementalHash {
  update(bytes: Uint8Array): void;
  /** An independent hash of the bytes so far. */
  copy(): IncrementalHash;
  digest(): Uint8Array;
}

export type HashFactory = () => IncrementalHash;
