import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalCluster } from '../support/local-cluster.js';
import { runTrib } from '../support/trib-process.js';

let cluster: LocalCluster;

beforeAll(async () => {
  cluster = await LocalCluster.create({ controllers: 3, settings: { controller: { raft: { tickIntervalMs: 20 } } } });
  await cluster.up();
}, 120_000);

afterAll(async () => {
  await cluster.destroy();
}, 60_000);

function nodeLog(id: number): string {
  return readFileSync(join(cluster.nodeDirectory(id), 'node.log'), 'utf8');
}

describe('a three-controller cluster of OS processes', () => {
  it('starts every node with its pid file and log, and cluster status reports them serving', async () => {
    for (const id of cluster.ids) {
      expect(cluster.pid(id)).toBeGreaterThan(0);
      expect(nodeLog(id)).toContain('"msg":"node started"');
    }
    const status = await runTrib(['cluster', 'status', '--config', cluster.configPath, '--json']);
    expect(status.code).toBe(0);
    const nodes = (JSON.parse(status.stdout) as { nodes: Array<{ id: number; state: string }> }).nodes;
    expect(nodes.map((node) => [node.id, node.state])).toEqual([
      [1, 'SERVING'],
      [2, 'SERVING'],
      [3, 'SERVING'],
    ]);
  });

  it('cluster up is idempotent: it restarts only a node that was killed', async () => {
    const before = cluster.ids.map((id) => cluster.pid(id));
    await cluster.kill(2);
    expect(cluster.pid(2)).toBeUndefined();
    const result = await cluster.up();
    const states = (JSON.parse(result.stdout) as { nodes: Array<{ id: number; state: string }> }).nodes.map((node) => node.state);
    expect(states).toEqual(['already running', 'started', 'already running']);
    expect(cluster.pid(1)).toBe(before[0]);
    expect(cluster.pid(3)).toBe(before[2]);
    expect(cluster.pid(2)).not.toBe(before[1]);
  }, 120_000);
});
