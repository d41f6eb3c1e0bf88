import { loadConfig, type NodeConfig } from '../../src/config/index.js';
import { type RunningNode, startNode } from '../../src/node/start-node.js';
import { captureLogger } from './log-capture.js';

/** Config of a single combined node on ephemeral loopback ports, independent of the environment. */
export function testNodeConfig(overrides: object = {}): NodeConfig {
  return loadConfig({
    env: {},
    overrides: { nodeId: 1, listen: { grpc: '127.0.0.1:0', metrics: '127.0.0.1:0' }, ...overrides },
  });
}

/** Starts a real node (gRPC + HTTP on 127.0.0.1, ephemeral ports) in this process. */
export async function startTestNode(overrides: object = {}): Promise<RunningNode & { logLines: ReturnType<typeof captureLogger>['lines'] }> {
  const { logger, lines } = captureLogger();
  const node = await startNode(testNodeConfig(overrides), logger);
  return Object.assign(node, { logLines: lines });
}
