import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

/**
 * Starts a real node (gRPC + HTTP on 127.0.0.1, ephemeral ports, RocksDB in a temporary data
 * directory) in this process; stop() also removes the directory unless the test named its own.
 */
export async function startTestNode(overrides: object = {}): Promise<RunningNode & { logLines: ReturnType<typeof captureLogger>['lines'] }> {
  const { logger, lines } = captureLogger();
  const ownDataDir = 'dataDir' in overrides ? undefined : mkdtempSync(join(tmpdir(), 'trib-test-node-'));
  const config = testNodeConfig(ownDataDir === undefined ? overrides : { dataDir: ownDataDir, ...overrides });
  let node: RunningNode;
  try {
    node = await startNode(config, logger);
  } catch (error) {
    if (ownDataDir !== undefined) rmSync(ownDataDir, { recursive: true, force: true });
    throw error;
  }
  const stopNode = node.stop.bind(node);
  const stop = async (): Promise<void> => {
    await stopNode();
    if (ownDataDir !== undefined) rmSync(ownDataDir, { recursive: true, force: true });
  };
  return Object.assign(node, { stop, logLines: lines });
}
