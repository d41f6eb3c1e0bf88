import type { NodeConfig } from '../config/index.js';
import { packageVersion } from './package-version.js';

export type NodeRole = NodeConfig['roles'][number];

/** What a running process says about itself: to GetVersion callers, in logs and in metrics. */
export interface NodeIdentity {
  nodeId: number;
  roles: readonly NodeRole[];
  /** The configured cluster id every node of the cluster shares. */
  clusterId: string;
  version: string;
  startedAtMs: number;
}

export function nodeIdentityOf(config: NodeConfig, startedAtMs: number): NodeIdentity {
  return { nodeId: config.nodeId, roles: config.roles, clusterId: config.clusterId, version: packageVersion, startedAtMs };
}
