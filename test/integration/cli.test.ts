import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTrib, startTrib, type RunningTrib } from '../support/trib-process.js';

const packageVersion = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

describe('trib, as a separate process', () => {
  it('prints its version', async () => {
    const result = await runTrib(['--version']);
    expect(result).toMatchObject({ code: 0, stdout: `${packageVersion}\n` });
  });

  it('fails clearly when no node answers', async () => {
    const result = await runTrib(['health', '--server', '127.0.0.1:1', '--timeout-ms', '500']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^trib: (NOT_AVAILABLE|TIMEOUT): /);
  });

  it('refuses a bad flag value naming it', async () => {
    const result = await runTrib(['version', '--server', '127.0.0.1:1', '--timeout-ms', 'soon']);
    expect(result).toMatchObject({ code: 1, stderr: 'trib: --timeout-ms must be a positive integer number of milliseconds, got "soon"\n' });
  });
});

describe('trib dev serves health and version until SIGTERM', () => {
  let node: RunningTrib;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'trib-cli-dev-'));
    node = await startTrib(['dev', '--grpc', '127.0.0.1:0', '--metrics', '127.0.0.1:0', '--data-dir', dataDir]);
  });
  afterAll(async () => {
    await node?.stop('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers trib health', async () => {
    const result = await runTrib(['health', '--server', node.grpcAddress]);
    expect(result).toMatchObject({ code: 0, stdout: `${node.grpcAddress}: SERVING\n` });
    const unknown = await runTrib(['health', '--server', node.grpcAddress, '--service', 'tributary.x.v1.Nope']);
    expect(unknown).toMatchObject({ code: 1, stdout: `${node.grpcAddress} tributary.x.v1.Nope: SERVICE_UNKNOWN\n` });
  });

  it('answers trib version --server', async () => {
    const result = await runTrib(['version', '--server', node.grpcAddress]);
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toBe(`trib ${packageVersion}`);
    expect(lines[1]).toBe(`node 1 at ${node.grpcAddress}: trib ${packageVersion} (controller, broker), ${process.version} ${process.platform}-${process.arch}`);
    expect(result.stdout).toContain('compatibility: COMPATIBLE');
    expect(result.stdout).toContain('  tributary.pipeline.v1.PipelineService v1.0');
  });

  it('serves /healthz on its metrics port', async () => {
    const response = await fetch(`http://${node.metricsAddress}/healthz`);
    expect(response.status).toBe(200);
  });

  it('shuts down gracefully on SIGTERM and exits 0, even when a second signal follows (npm relays Ctrl-C)', async () => {
    void node.stop('SIGTERM');
    const result = await node.stop('SIGINT');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('"msg":"already shutting down"');
    expect(result.stdout).toContain('"msg":"node stopped"');
  });
});

describe('trib dev with a bad configuration', () => {
  let directory: string;
  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), 'trib-cli-'));
  });
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('names a missing config file', async () => {
    const missing = join(directory, 'missing.yaml');
    const result = await runTrib(['dev', '--config', missing]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`config file "${missing}" could not be read: ENOENT`);
  });

  it('names an unknown key and the keys allowed there', async () => {
    const file = join(directory, 'typo.yaml');
    writeFileSync(file, 'nodeId: 1\nlisten:\n  grcp: 127.0.0.1:0\n');
    const result = await runTrib(['dev', '--config', file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('trib: invalid configuration:\nconfig key "listen.grcp" is not a known key; allowed keys at "listen": grpc, metrics\n');
  });

  it('names the environment variable that carried a bad value', async () => {
    const result = await runTrib(['dev'], { env: { TRIB_LOG__LEVEL: 'loud' } });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('environment variable TRIB_LOG__LEVEL: config key "log.level" has value "loud"');
  });
});
