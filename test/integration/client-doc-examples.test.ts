import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Producer } from '../../src/client/index.js';
import { AdminClient, defaultClientOptions, GroupCoordinatorClient } from '../../src/rpc/clients/index.js';
import type { TestNode } from '../support/controller-quorum.js';
import { eventually } from '../support/eventually.js';
import { startTestNode } from '../support/test-node.js';
import { cleanEnv } from '../support/trib-process.js';

const repositoryRoot = fileURLToPath(new URL('../..', import.meta.url));
const clientIndex = join(repositoryRoot, 'src/client/index.ts');
const waitMs = 30_000;

/** The code block that follows `<!-- tested: NAME -->` in docs/CLIENT.md. */
function documentedExample(name: string): string {
  const text = readFileSync(join(repositoryRoot, 'docs/CLIENT.md'), 'utf8');
  const match = new RegExp(`<!-- tested: ${name} -->\\n\`\`\`ts\\n([\\s\\S]*?)\\n\`\`\``).exec(text);
  if (match?.[1] === undefined) throw new Error(`docs/CLIENT.md has no example marked "tested: ${name}"`);
  return match[1];
}

/**
 * Runs a documented example as its own process against `bootstrap` (the SDK imported from this
 * tree), until it printed `linesWanted` lines; then SIGTERM, which the consumer examples answer by
 * disconnecting, unless it `endsByItself` (then it is waited for). Resolves with its output and exit code.
 */
async function runExample(name: string, bootstrap: string, linesWanted: number, endsByItself = false): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const directory = mkdtempSync(join(tmpdir(), 'trib-doc-example-'));
  // .mts: the examples use top-level await, which needs an ES module outside the package.
  const file = join(directory, `${name}.mts`);
  writeFileSync(file, documentedExample(name).replaceAll('tributary/dist/client/index.js', clientIndex).replaceAll('127.0.0.1:7101', bootstrap));
  const child = spawn(process.execPath, ['--import', 'tsx', file], { cwd: repositoryRoot, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    await eventually(() => Promise.resolve(stdout.split('\n').filter((line) => line !== '').length >= linesWanted || child.exitCode !== null ? true : undefined), waitMs, `${linesWanted} lines from ${name}; stderr: ${stderr}`);
    if (!endsByItself) child.kill('SIGTERM');
    const code = await exited;
    if (code !== 0) console.error(`${name} exited with ${code}; stderr: ${stderr}`);
    return { code, stdout, stderr };
  } finally {
    child.kill('SIGKILL');
    rmSync(directory, { recursive: true, force: true });
  }
}

describe('the examples of docs/CLIENT.md', () => {
  let node: TestNode;
  let groups: GroupCoordinatorClient;

  beforeAll(async () => {
    node = await startTestNode({ controller: { raft: { tickIntervalMs: 20 } } });
    const options = { ...defaultClientOptions('client-doc-examples-test'), deadlineMs: 3_000, bootstrap: [node.grpcAddress] };
    const admin = new AdminClient(options);
    groups = new GroupCoordinatorClient(options);
    const producer = new Producer({ bootstrap: [node.grpcAddress] });
    try {
      const active = async () => ((await admin.describeCluster().catch(() => undefined))?.brokers.some((broker) => broker.state === 'active') ? true : undefined);
      await eventually(active, waitMs, 'the broker to be active');
      await admin.createTopic('readings', { config: { partitions: 2, replicationFactor: 1 } });
      await producer.send('readings', [0, 1, 2, 3].map((index) => ({ value: `reading ${index}`, partition: index % 2 })));
    } finally {
      admin.close();
      await producer.close();
    }
  }, 60_000);

  afterAll(async () => {
    groups?.close();
    await node?.stop();
  });

  const committed = async (groupId: string) => (await groups.fetchOffsets(groupId)).offsets.map((entry) => [entry.partition, entry.offset]);

  it('eachMessage prints every record, and SIGTERM commits and leaves', async () => {
    const { code, stdout } = await runExample('consumer-group-each-message', node.grpcAddress, 4);
    expect(code).toBe(0);
    expect(stdout.split('\n').filter((line) => line !== '').toSorted()).toEqual(['readings 0 0 reading 0', 'readings 0 1 reading 2', 'readings 1 0 reading 1', 'readings 1 1 reading 3']);
    expect(await committed('billing')).toEqual([[0, 2], [1, 2]]);
  }, 60_000);

  it('eachBatch commits each batch explicitly', async () => {
    const { code, stdout } = await runExample('consumer-group-each-batch', node.grpcAddress, 2);
    expect(code).toBe(0);
    expect(stdout.split('\n').filter((line) => line.endsWith('records')).toSorted()).toEqual(['readings-0: 2 records', 'readings-1: 2 records']);
    expect(stdout).toMatch(/generation \d+: revoked/);
    expect(await committed('archiver')).toEqual([[0, 2], [1, 2]]);
  }, 60_000);

  // After the group examples, which expect the four records of beforeAll alone.
  it('the producer example sends with both forms of send and prints where the records went', async () => {
    const { code, stdout } = await runExample('producer', node.grpcAddress, 2, true);
    expect(code).toBe(0);
    const lines = stdout.split('\n').filter((line) => line !== '');
    expect(lines[0]).toMatch(/^partition [01] offset \d+$/);
    // 'b' went to partition 1, after the two records beforeAll put there and the keyed and sticky ones that landed there too.
    expect(lines[1]).toMatch(/^partition 1 offset [2-4]$/);
  }, 60_000);
});
