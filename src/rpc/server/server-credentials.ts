import { readFileSync } from 'node:fs';
import { ServerCredentials } from '@grpc/grpc-js';

/** TLS material for a server, as paths; mirrors the `tls` section of the node config. */
export interface ServerTlsFiles {
  certFile: string;
  keyFile: string;
  /** CA bundle that client certificates must chain to; required for mTLS. */
  caFile?: string | undefined;
  requireClientCert: boolean;
}

/**
 * Server credentials: plaintext when no TLS is configured (loopback development), TLS with the
 * given certificate, and mTLS when client certificates are required. A file that cannot be read
 * fails start-up with its path in the message.
 */
export function serverCredentialsFor(tls: ServerTlsFiles | undefined): ServerCredentials {
  if (tls === undefined) return ServerCredentials.createInsecure();
  if (tls.requireClientCert && tls.caFile === undefined) {
    throw new Error('tls.requireClientCert is true but tls.caFile is not set: mTLS needs the CA that client certificates chain to');
  }
  const ca = tls.caFile === undefined ? null : readTlsFile('tls.caFile', tls.caFile);
  const pair = { cert_chain: readTlsFile('tls.certFile', tls.certFile), private_key: readTlsFile('tls.keyFile', tls.keyFile) };
  return ServerCredentials.createSsl(ca, [pair], tls.requireClientCert);
}

function readTlsFile(key: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new Error(`${key} "${path}" could not be read: ${(error as Error).message}`, { cause: error });
  }
}
