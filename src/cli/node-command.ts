import { Command } from 'commander';
import { loadConfig, type NodeConfig } from '../config/index.js';
import { startNode } from '../node/start-node.js';
import { createLogger } from '../observability/index.js';
import { exitOnFatal, stopOnSignals } from './stop-on-signals.js';

interface NodeFlags {
  config: string;
  pretty?: boolean;
}

/** `trib node --config F`: one node process running the roles its config lists, until SIGTERM. */
export function nodeCommand(): Command {
  return roleCommand('node', 'run one node with the roles its config lists', undefined);
}

/** `trib controller --config F`: one controller process (a voter of the controller quorum). */
export function controllerCommand(): Command {
  return roleCommand('controller', 'run one controller of the quorum', ['controller']);
}

/** `trib broker --config F`: one broker process; its config lists the controllers to register with. */
export function brokerCommand(): Command {
  return roleCommand('broker', 'run one broker', ['broker']);
}

function roleCommand(name: string, description: string, roles: NodeConfig['roles'] | undefined): Command {
  return new Command(name)
    .description(description)
    .requiredOption('-c, --config <file>', 'YAML node config (TRIB_* variables still apply)')
    .option('--pretty', 'human-readable logs instead of JSON lines')
    .action(async (flags: NodeFlags) => {
      const config = loadConfig({ file: flags.config, overrides: { roles, log: { pretty: flags.pretty ? true : undefined } } });
      const logger = createLogger({ level: config.log.level, pretty: config.log.pretty });
      const node = await startNode(config, logger, { onFatal: exitOnFatal });
      stopOnSignals(node, logger);
    });
}
