import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { clusterNodeConfig, loadClusterConfig } from '../../../src/config/cluster-config.js';
import { nodeConfigSchema } from '../../../src/config/index.js';

const clusterDirectory = fileURLToPath(new URL('../../../cluster/', import.meta.url));

/** Every node config a cluster file yields, validated as `trib node` would validate it. */
function nodeConfigsOf(file: string) {
  const cluster = loadClusterConfig(`${clusterDirectory}${file}`);
  return cluster.nodes.map((node) => nodeConfigSchema.parse(clusterNodeConfig(cluster, node, false)));
}

describe('the shipped cluster files', () => {
  it('local.yaml runs three combined nodes, each a voter of the same quorum', () => {
    const configs = nodeConfigsOf('local.yaml');
    expect(configs.map((config) => [config.nodeId, config.roles])).toEqual([
      [1, ['controller', 'broker']],
      [2, ['controller', 'broker']],
      [3, ['controller', 'broker']],
    ]);
    for (const config of configs) expect(config.controller.quorum.map((voter) => voter.id)).toEqual([1, 2, 3]);
  });

  it('split.yaml runs three controllers and three brokers that register with them, on ports apart from local.yaml', () => {
    const configs = nodeConfigsOf('split.yaml');
    expect(configs.map((config) => [config.nodeId, config.roles])).toEqual([
      [1, ['controller']], [2, ['controller']], [3, ['controller']], [4, ['broker']], [5, ['broker']], [6, ['broker']],
    ]);
    for (const config of configs) expect(config.controller.quorum.map((voter) => voter.address)).toEqual(['127.0.0.1:7201', '127.0.0.1:7202', '127.0.0.1:7203']);
    const localPorts = new Set(nodeConfigsOf('local.yaml').flatMap((config) => [config.listen.grpc, config.listen.metrics]));
    expect(configs.flatMap((config) => [config.listen.grpc, config.listen.metrics]).filter((address) => localPorts.has(address))).toEqual([]);
    expect(new Set(configs.map((config) => config.dataDir)).size).toBe(6);
  });
});
