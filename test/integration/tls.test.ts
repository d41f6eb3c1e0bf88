import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkHealth, defaultClientOptions } from '../../src/rpc/clients/index.js';
import { serverCredentialsFor } from '../../src/rpc/server/server-credentials.js';
import { createTlsFixture, type TlsFixture } from '../support/tls-fixture.js';
import { startTestNode } from '../support/test-node.js';

const options = { ...defaultClientOptions('tls-test'), deadlineMs: 3_000 };

describe('TLS and mTLS on the gRPC port', () => {
  let directory: string;
  let tls: TlsFixture;
  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), 'trib-tls-'));
    tls = createTlsFixture(directory);
  });
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('serves clients that trust its CA, and refuses plaintext clients', async () => {
    const node = await startTestNode({ tls: { certFile: tls.serverCertFile, keyFile: tls.serverKeyFile } });
    try {
      expect(await checkHealth(node.grpcAddress, '', { ...options, tls: { caFile: tls.caFile } })).toBe('SERVING');
      await expect(checkHealth(node.grpcAddress, '', options)).rejects.toMatchObject({ code: 'NOT_AVAILABLE' });
    } finally {
      await node.stop();
    }
  });

  it('requires a client certificate signed by its CA when mTLS is on', async () => {
    const node = await startTestNode({
      tls: { certFile: tls.serverCertFile, keyFile: tls.serverKeyFile, caFile: tls.caFile, requireClientCert: true },
    });
    try {
      const withCertificate = { caFile: tls.caFile, certFile: tls.clientCertFile, keyFile: tls.clientKeyFile };
      expect(await checkHealth(node.grpcAddress, '', { ...options, tls: withCertificate })).toBe('SERVING');
      await expect(checkHealth(node.grpcAddress, '', { ...options, tls: { caFile: tls.caFile } })).rejects.toMatchObject({ code: 'NOT_AVAILABLE' });
    } finally {
      await node.stop();
    }
  });

  it('names an unreadable certificate file', () => {
    const missing = join(directory, 'nope.crt');
    expect(() => serverCredentialsFor({ certFile: missing, keyFile: tls.serverKeyFile, requireClientCert: false })).toThrow(
      `tls.certFile "${missing}" could not be read: ENOENT`,
    );
  });
});
