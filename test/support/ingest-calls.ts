import { createHash } from 'node:crypto';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { TributaryError } from '../../src/errors/index.js';
import { newRequestHeader } from '../../src/rpc/clients/request-header.js';
import { fromGrpcError } from '../../src/rpc/error-status.js';
import {
  type CreateSessionResponse, DataIngestServiceClient, type GetOffsetResponse, type ListSessionsResponse, type ReadSessionResponse, type UploadRequest, UploadResponse,
} from '../../src/rpc/generated/tributary/ingest/v1/data_ingest_service.js';
import { PayloadKind, type SessionInfo, type SourceSpec } from '../../src/rpc/generated/tributary/ingest/v1/ingest_types.js';
import { uploadAckTrailer } from '../../src/rpc/services/upload-call.js';
import { crc32c } from '../../src/storage/crc32c.js';
import { eventually } from './eventually.js';

/*
 * Raw DataIngestService calls through the generated client, so the tests see what the wire
 * carries: failures come back as the TributaryError the server sent, and a failed Upload also
 * with the UploadResponse of its ack trailer.
 */

const callDeadlineMs = 30_000;
export const header = () => newRequestHeader('ingest-test');

export interface ChunkSpec {
  readonly source: string;
  readonly offsetBytes: number;
  readonly payload: Buffer;
  readonly final?: boolean;
  /** The whole source's SHA-256, for a final chunk. */
  readonly sha256?: Buffer;
  /** Overrides the payload's CRC32C (to send a wrong one). */
  readonly crc32c?: number;
}

export class UploadFailure extends Error {
  constructor(readonly error: TributaryError, readonly ack: UploadResponse | undefined) {
    super(error.message);
  }
}

export function binarySource(name: string, declaredLengthBytes?: number): SourceSpec {
  return { name, contentType: 'application/octet-stream', payloadKind: PayloadKind.BINARY, declaredLengthBytes, sensor: undefined };
}

export function sha256(bytes: Uint8Array): Buffer {
  return createHash('sha256').update(bytes).digest();
}

export class IngestCalls {
  readonly client: DataIngestServiceClient;

  constructor(address: string) {
    this.client = new DataIngestServiceClient(address, credentials.createInsecure());
  }

  close(): void {
    this.client.close();
  }

  /** CreateSession, retried while the ingest topic's partitions are still opening. */
  createSession(deviceId: string, sessionId: string, sources: SourceSpec[], extra: { idleTimeoutMs?: number } = {}): Promise<CreateSessionResponse> {
    return eventually(async () => {
      try {
        return await this.unary<CreateSessionResponse>('createSession', { header: header(), deviceId, sessionId, sources, metadata: { app: 'test' }, expiresAtMs: 0, idleTimeoutMs: extra.idleTimeoutMs ?? 0, topic: '' });
      } catch (error) {
        if (error instanceof TributaryError && error.code === 'NOT_AVAILABLE') return undefined;
        throw error;
      }
    }, callDeadlineMs, 'the ingest topic to serve CreateSession');
  }

  upload(deviceId: string, sessionId: string, chunks: readonly ChunkSpec[]): Promise<UploadResponse> {
    return new Promise((resolve, reject) => {
      const call = this.client.upload(new Metadata(), { deadline: new Date(Date.now() + callDeadlineMs) }, (error: ServiceError | null, response: UploadResponse) => {
        if (error === null) return resolve(response);
        const trailer = error.metadata?.get(uploadAckTrailer)[0];
        reject(new UploadFailure(fromGrpcError(error), trailer instanceof Buffer ? UploadResponse.decode(trailer) : undefined));
      });
      chunks.forEach((chunk, index) => call.write(uploadRequest(index === 0 ? { deviceId, sessionId } : { deviceId: '', sessionId: '' }, chunk)));
      call.end();
    });
  }

  getOffset(deviceId: string, sessionId: string, wait: { knownOffsetBytes?: Record<string, number>; maxWaitMs?: number } = {}): Promise<GetOffsetResponse> {
    return this.unary('getOffset', { header: header(), deviceId, sessionId, sources: [], knownOffsetBytes: wait.knownOffsetBytes ?? {}, maxWaitMs: wait.maxWaitMs ?? 0 });
  }

  async getSession(deviceId: string, sessionId: string): Promise<SessionInfo> {
    const { session } = await this.unary<{ session: SessionInfo }>('getSession', { header: header(), deviceId, sessionId });
    return session;
  }

  listSessions(deviceId: string): Promise<ListSessionsResponse> {
    return this.unary('listSessions', { header: header(), deviceId, states: [], createdAfterMs: 0, createdBeforeMs: 0, pageSize: 0, pageToken: '' });
  }

  terminate(deviceId: string, sessionId: string, reason: string): Promise<{ session: SessionInfo }> {
    return this.unary('terminateSession', { header: header(), deviceId, sessionId, reason });
  }

  /** Every piece ReadSession sends for one source from `offsetBytes`, the first (with source_info) included. */
  readSession(deviceId: string, sessionId: string, source: string, offsetBytes = 0): Promise<ReadSessionResponse[]> {
    return new Promise((resolve, reject) => {
      const pieces: ReadSessionResponse[] = [];
      const stream = this.client.readSession({ header: header(), deviceId, sessionId, source, offsetBytes, maxBytes: 0, maxChunkBytes: 64 * 1024, follow: false }, { deadline: new Date(Date.now() + callDeadlineMs) });
      stream.on('data', (piece: ReadSessionResponse) => pieces.push(piece));
      stream.on('end', () => resolve(pieces));
      stream.on('error', (error: ServiceError) => reject(fromGrpcError(error)));
    });
  }

  private unary<Response>(method: 'createSession' | 'getOffset' | 'getSession' | 'listSessions' | 'terminateSession', request: object): Promise<Response> {
    return new Promise((resolve, reject) => {
      const invoke = this.client[method].bind(this.client) as (request: object, metadata: Metadata, options: object, callback: (error: ServiceError | null, response: Response) => void) => unknown;
      invoke(request, new Metadata(), { deadline: new Date(Date.now() + callDeadlineMs) }, (error, response) => (error === null ? resolve(response) : reject(fromGrpcError(error))));
    });
  }
}

function uploadRequest(ids: { deviceId: string; sessionId: string }, chunk: ChunkSpec): UploadRequest {
  return {
    header: ids.deviceId === '' ? undefined : header(),
    ...ids,
    source: chunk.source,
    offsetBytes: chunk.offsetBytes,
    crc32c: chunk.crc32c ?? (chunk.payload.byteLength === 0 ? 0 : crc32c(chunk.payload)),
    final: chunk.final ?? false,
    sha256: chunk.sha256 ?? Buffer.alloc(0),
    payload: { $case: 'binary', value: chunk.payload },
  };
}

/** `bytes` cut into chunks of `chunkBytes` from `fromBytes`, the last one final with the source's SHA-256. */
export function chunksOf(source: string, bytes: Buffer, chunkBytes: number, fromBytes = 0): ChunkSpec[] {
  const chunks: ChunkSpec[] = [];
  for (let offset = fromBytes; offset < bytes.length; offset += chunkBytes) {
    const end = Math.min(bytes.length, offset + chunkBytes);
    chunks.push({ source, offsetBytes: offset, payload: bytes.subarray(offset, end), final: end === bytes.length, sha256: end === bytes.length ? sha256(bytes) : undefined });
  }
  return chunks;
}
