import { readFileSync } from 'node:fs';
import { ChannelCredentials, Metadata } from '@grpc/grpc-js';

/** How a client reaches one node. */
export interface ClientOptions {
  /** Per-call deadline; every call the SDK or CLI makes has one. */
  deadlineMs: number;
  /** Name this client gives in RequestHeader.client_id and logs. */
  clientId: string;
  /** TLS: the CA to trust, and a client certificate for mTLS. Plaintext when absent. */
  tls?: ClientTlsFiles | undefined;
  /** Bearer token for nodes that require authentication. */
  token?: string | undefined;
}

export interface ClientTlsFiles {
  caFile?: string | undefined;
  certFile?: string | undefined;
  keyFile?: string | undefined;
}

export const clientDeadlineMsDefault = 5_000;

export function defaultClientOptions(clientId: string): ClientOptions {
  return { deadlineMs: clientDeadlineMsDefault, clientId };
}

export function channelCredentialsFor(tls: ClientTlsFiles | undefined): ChannelCredentials {
  if (tls === undefined) return ChannelCredentials.createInsecure();
  const read = (path: string | undefined) => (path === undefined ? null : readFileSync(path));
  return ChannelCredentials.createSsl(read(tls.caFile), read(tls.keyFile), read(tls.certFile));
}

/** Call metadata: the bearer token when the client has one. */
export function callMetadata(options: Pick<ClientOptions, 'token'>): Metadata {
  const metadata = new Metadata();
  if (options.token !== undefined) metadata.set('authorization', `Bearer ${options.token}`);
  return metadata;
}

export function deadlineAfter(deadlineMs: number): Date {
  return new Date(Date.now() + deadlineMs);
}
