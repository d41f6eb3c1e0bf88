import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningNode } from '../../src/node/start-node.js';
import { AdminClient, checkHealth, defaultClientOptions, getVersion, listServices } from '../../src/rpc/clients/index.js';
import { loadTokenHashes } from '../../src/node/load-token-hashes.js';
import { freePorts } from '../support/free-ports.js';
import { startTestNode } from '../support/test-node.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const options = defaultClientOptions('auth-test');

describe('bearer-token authentication', () => {
  let directory: string;
  let node: RunningNode;
  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'trib-auth-'));
    const tokenFile = join(directory, 'tokens');
    writeFileSync(tokenFile, `# operators\n${sha256('file-token')}\n\n`);
    // The node is combined: its broker presents this token to its own controller.
    const peerTokenFile = join(directory, 'peer-token');
    writeFileSync(peerTokenFile, 'inline-token\n');
    node = await startTestNode({ auth: { enabled: true, tokenFiles: [tokenFile], tokens: [sha256('inline-token')], peerTokenFile } });
  });
  afterAll(async () => {
    await node.stop();
    rmSync(directory, { recursive: true, force: true });
  });

  it('accepts tokens from the token file and from the config', async () => {
    expect((await getVersion(node.grpcAddress, { ...options, token: 'file-token' })).nodeId).toBe(1);
    expect((await getVersion(node.grpcAddress, { ...options, token: 'inline-token' })).nodeId).toBe(1);
    expect(await listServices(node.grpcAddress, { ...options, token: 'inline-token' })).toContain('tributary.pipeline.v1.PipelineService');
  });

  it('refuses a call without a token, or with a wrong one, as UNAUTHENTICATED', async () => {
    await expect(getVersion(node.grpcAddress, options)).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
      retriable: false,
      message: 'this node requires a bearer token: send metadata "authorization: Bearer <token>"',
    });
    await expect(getVersion(node.grpcAddress, { ...options, token: 'guess' })).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
      message: 'the bearer token is not valid for this node',
    });
    await expect(listServices(node.grpcAddress, options)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('keeps health checks open for probes', async () => {
    expect(await checkHealth(node.grpcAddress, '', options)).toBe('SERVING');
  });

  it('names the file and line of a malformed token hash', () => {
    const bad = join(directory, 'bad-tokens');
    writeFileSync(bad, `${sha256('ok')}\nnot-a-hash\n`);
    expect(() => loadTokenHashes({ enabled: true, tokenFiles: [bad], tokens: [] })).toThrow(
      `auth.tokenFiles: "${bad}" line 2 is not a SHA-256 hash (64 lowercase hex characters; make one with: printf %s "$TOKEN" | sha256sum)`,
    );
  });
});

describe('a controller quorum with authentication on', () => {
  it('forms a quorum with each controller presenting its peer token, and refuses clients without a token', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'trib-auth-quorum-'));
    const peerTokenFile = join(directory, 'peer-token');
    writeFileSync(peerTokenFile, 'peer-secret\n');
    const auth = { enabled: true, tokens: [sha256('peer-secret'), sha256('operator')], peerTokenFile };
    const ports = await freePorts(3);
    const quorum = ports.map((port, index) => ({ id: index + 1, address: `127.0.0.1:${port}` }));
    const nodes = await Promise.all(
      quorum.map(({ id, address }) => startTestNode({ nodeId: id, listen: { grpc: address, metrics: '127.0.0.1:0' }, auth, controller: { quorum, raft: { tickIntervalMs: 20 } } })),
    );
    const bootstrap = quorum.map((voter) => voter.address);
    const admin = new AdminClient({ ...options, token: 'operator', bootstrap });
    const anonymous = new AdminClient({ ...options, bootstrap });
    try {
      const leaderId = await waitFor(async () => ((await admin.describeCluster().catch(() => undefined))?.leaderId || undefined), 10_000);
      expect(quorum.map((voter) => voter.id)).toContain(leaderId);
      await expect(anonymous.describeCluster()).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    } finally {
      admin.close();
      anonymous.close();
      await Promise.all(nodes.map((node) => node.stop()));
      rmSync(directory, { recursive: true, force: true });
    }
  }, 30_000);
});

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`nothing within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
