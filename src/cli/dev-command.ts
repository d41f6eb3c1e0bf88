import { Command } from 'commander';
import { loadConfig } from '../config/index.js';
import { startNode, type RunningNode } from '../node/start-node.js';
import { componentLogger, createLogger, type Logger } from '../observability/index.js';
import { checkHealth, defaultClientOptions, getVersion } from '../rpc/clients/index.js';
import { packageVersion } from '../node/package-version.js';
import { exitOnFatal, stopOnSignals } from './stop-on-signals.js';

interface DevFlags {
  config?: string;
  demo?: boolean;
  pretty?: boolean;
  grpc?: string;
  metrics?: string;
  dataDir?: string;
}

/**
 * `trib dev`: the embedded default — one combined node (controller + broker) on loopback with
 * data under ./.tributary/, no config needed. Runs until SIGINT or SIGTERM, then shuts down
 * gracefully and exits 0.
 */
export function devCommand(): Command {
  return new Command('dev')
    .description('run the embedded single-node default on loopback (data under ./.tributary/)')
    .option('-c, --config <file>', 'YAML node config to start from (TRIB_* variables still apply)')
    .option('--grpc <address>', 'gRPC listen address, host:port (port 0 picks one)')
    .option('--metrics <address>', 'metrics/health HTTP listen address, host:port')
    .option('--data-dir <dir>', 'data directory')
    .option('--demo', 'after start-up, exercise the node as a client and print what to try next')
    .option('--pretty', 'human-readable logs instead of JSON lines')
    .action(async (flags: DevFlags) => {
      const config = loadConfig({
        file: flags.config,
        overrides: {
          nodeId: flags.config === undefined ? 1 : undefined,
          listen: { grpc: flags.grpc, metrics: flags.metrics },
          dataDir: flags.dataDir,
          log: { pretty: flags.pretty ? true : undefined },
        },
      });
      const logger = createLogger({ level: config.log.level, pretty: config.log.pretty });
      const node = await startNode(config, logger, { onFatal: exitOnFatal });
      stopOnSignals(node, logger);
      if (flags.demo) await runDemo(node, componentLogger(logger, 'demo'));
    });
}

/**
 * The demo talks to the node over real gRPC, as any client would: it checks health and asks for
 * the version, then says which commands to try. Later capabilities extend it with demo traffic.
 */
async function runDemo(node: RunningNode, logger: Logger): Promise<void> {
  const options = defaultClientOptions(`trib-demo/${packageVersion}`);
  const health = await checkHealth(node.grpcAddress, '', options);
  const version = await getVersion(node.grpcAddress, options);
  logger.info({ health, nodeId: version.nodeId, roles: version.roles, services: version.apiVersions.map((api) => api.service) }, 'demo: node answers over gRPC');
  logger.info(
    { try: [`npx trib health --server ${node.grpcAddress}`, `npx trib version --server ${node.grpcAddress}`, node.metricsAddress ? `curl http://${node.metricsAddress}/metrics` : undefined].filter(Boolean) },
    'demo: the node is up; press Ctrl-C to stop it',
  );
}
