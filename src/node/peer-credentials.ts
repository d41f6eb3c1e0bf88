import { readFileSync } from 'node:fs';
import type { NodeConfig } from '../config/index.js';

/*
 * How this node presents itself when it dials other nodes of its cluster: controllers dial their
 * peers, brokers dial the controllers and each other. One token and one certificate for all.
 */

/** The bearer token this node presents when the cluster checks tokens (auth.peerTokenFile). */
export function peerToken(config: NodeConfig): string | undefined {
  const path = config.auth.peerTokenFile;
  if (path === undefined) return undefined;
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (error) {
    throw new Error(`auth.peerTokenFile: "${path}" could not be read: ${(error as Error).message}`, { cause: error });
  }
}

/** Nodes dial each other with the node's own certificate: mTLS between them when TLS is on. */
export function peerTls(config: NodeConfig): { caFile?: string; certFile: string; keyFile: string } | undefined {
  if (config.tls === undefined) return undefined;
  const { caFile, certFile, keyFile } = config.tls;
  return caFile === undefined ? { certFile, keyFile } : { caFile, certFile, keyFile };
}
