import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError, fileIssue, issuesFromZod } from './config-error.js';

/** A loopback cluster is for one machine; more nodes than this belong in a real deployment. */
export const clusterNodesMax = 16;

const nodeSchema = z.strictObject({
  id: z.int().min(1).max(2_147_483_647).describe('an integer from 1 to 2147483647 (node id)'),
  roles: z.array(z.enum(['controller', 'broker'])).min(1).describe('a non-empty list of roles from controller, broker'),
  grpc: z.string().min(1).describe('the gRPC address "host:port" the node listens on and others dial'),
  metrics: z.string().min(1).describe('the metrics/health HTTP address "host:port"'),
});

const clusterSchema = z.strictObject({
  dataDir: z.string().min(1).describe('a non-empty directory path; node N keeps its data in <dataDir>/N'),
  nodes: z
    .array(nodeSchema)
    .min(1)
    .max(clusterNodesMax)
    .describe(`a list of 1 to ${clusterNodesMax} nodes { id, roles, grpc, metrics }`)
    .refine((nodes) => new Set(nodes.map((node) => node.id)).size === nodes.length, 'a list of nodes with distinct ids'),
  // Node config keys applied to every node (durability, log, limits, controller.raft...).
  settings: z.record(z.string(), z.unknown()).describe('a mapping of node config keys').default({}),
});

export type ClusterConfig = z.output<typeof clusterSchema>;
export type ClusterNode = ClusterConfig['nodes'][number];

/** Reads and validates a cluster file (cluster/local.yaml); dataDir is resolved against the working directory. */
export function loadClusterConfig(filePath: string): ClusterConfig {
  let parsed: unknown;
  try {
    parsed = parseYaml(readFileSync(filePath, 'utf8'));
  } catch (error) {
    const problem = `could not be read as YAML: ${(error as Error).message}`;
    throw new ConfigError([fileIssue('cluster config', filePath, problem, 'a readable YAML file describing { dataDir, nodes, settings }')], { cause: error });
  }
  const result = clusterSchema.safeParse(parsed, { reportInput: true });
  if (!result.success) throw new ConfigError(issuesFromZod(result.error.issues, () => `cluster config ${filePath}`));
  return { ...result.data, dataDir: resolve(result.data.dataDir) };
}

export function nodeDataDir(cluster: ClusterConfig, nodeId: number): string {
  return join(cluster.dataDir, String(nodeId));
}

/**
 * The node config of one cluster member, as YAML-ready values: the shared settings, then what
 * the cluster file says of this node. `join` is set for a controller that must wait to be added
 * (docs/CONTROLLER.md) instead of bootstrapping the quorum.
 */
export function clusterNodeConfig(cluster: ClusterConfig, node: ClusterNode, join: boolean): Record<string, unknown> {
  const settings = cluster.settings;
  const controllerSettings = typeof settings.controller === 'object' && settings.controller !== null ? settings.controller : {};
  const quorum = cluster.nodes.filter((member) => member.roles.includes('controller')).map((member) => ({ id: member.id, address: member.grpc }));
  return {
    ...settings,
    nodeId: node.id,
    roles: node.roles,
    listen: { grpc: node.grpc, metrics: node.metrics },
    dataDir: nodeDataDir(cluster, node.id),
    controller: { ...controllerSettings, quorum, join },
  };
}
