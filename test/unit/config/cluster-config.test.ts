import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { clusterNodeConfig, loadClusterConfig, nodeDataDir } from '../../../src/config/cluster-config.js';
import { ConfigError, nodeConfigSchema } from '../../../src/config/index.js';

const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

function clusterFile(text: string): string {
  const directory = mkdtempSync(join(tmpdir(), 'trib-cluster-config-'));
  directories.push(directory);
  const path = join(directory, 'cluster.yaml');
  writeFileSync(path, text);
  return path;
}

const threeControllers = `
dataDir: /var/tmp/trib-test
nodes:
  - { id: 1, roles: [controller], grpc: 127.0.0.1:7101, metrics: 127.0.0.1:7181 }
  - { id: 2, roles: [controller], grpc: 127.0.0.1:7102, metrics: 127.0.0.1:7182 }
  - { id: 3, roles: [controller], grpc: 127.0.0.1:7103, metrics: 127.0.0.1:7183 }
settings:
  durability: none
  controller: { raft: { tickIntervalMs: 20 } }
`;

describe('cluster config', () => {
  it('derives a valid node config per member, with the quorum of every controller and its own data directory', () => {
    const cluster = loadClusterConfig(clusterFile(threeControllers));
    const node = cluster.nodes[1];
    if (node === undefined) throw new Error('no node 2');
    const config = nodeConfigSchema.parse(clusterNodeConfig(cluster, node, false));
    expect(config.nodeId).toBe(2);
    expect(config.dataDir).toBe(nodeDataDir(cluster, 2));
    expect(config.dataDir).toBe('/var/tmp/trib-test/2');
    expect(config.durability).toBe('none');
    expect(config.controller.raft.tickIntervalMs).toBe(20);
    expect(config.controller.join).toBe(false);
    expect(config.controller.quorum.map((voter) => voter.address)).toEqual(['127.0.0.1:7101', '127.0.0.1:7102', '127.0.0.1:7103']);
  });

  it('marks a node that must join instead of bootstrapping', () => {
    const cluster = loadClusterConfig(clusterFile(threeControllers));
    const node = cluster.nodes[0];
    if (node === undefined) throw new Error('no node 1');
    expect(nodeConfigSchema.parse(clusterNodeConfig(cluster, node, true)).controller.join).toBe(true);
  });

  it('rejects duplicate node ids naming the file', () => {
    const path = clusterFile(`dataDir: /tmp/x\nnodes:\n  - { id: 1, roles: [controller], grpc: a:1, metrics: a:2 }\n  - { id: 1, roles: [controller], grpc: a:3, metrics: a:4 }\n`);
    expect(() => loadClusterConfig(path)).toThrow(ConfigError);
    expect(() => loadClusterConfig(path)).toThrow(/distinct ids/);
  });

  it('rejects a missing file naming it', () => {
    expect(() => loadClusterConfig('/nonexistent/cluster.yaml')).toThrow(/cluster config file "\/nonexistent\/cluster.yaml" could not be read/);
  });
});
