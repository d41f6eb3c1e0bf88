import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/index.js';
import { packageVersion } from '../node/package-version.js';
import { adminCommand } from './admin-command.js';
import { devicesCommand } from './devices-command.js';
import { describeFailure, exitCodes } from './cli-error.js';
import { devCommand } from './dev-command.js';
import { clusterCommand } from './cluster-command.js';
import { consumeCommand } from './consume-command.js';
import { healthCommand } from './health-command.js';
import { brokerCommand, controllerCommand, nodeCommand } from './node-command.js';
import { produceCommand } from './produce-command.js';
import { statusCommand } from './status-command.js';
import { topicCommand } from './topic-command.js';
import { versionCommand } from './version-command.js';

/** The `trib` program: one command group per file in this folder. */
export function tribProgram(): Command {
  return new Command('trib')
    .description('Tributary: ingest, store, replicate and process streams of device data')
    .version(packageVersion, '-V, --version', "print trib's version")
    .exitOverride()
    .addCommand(devCommand())
    .addCommand(nodeCommand())
    .addCommand(controllerCommand())
    .addCommand(brokerCommand())
    .addCommand(clusterCommand())
    .addCommand(versionCommand())
    .addCommand(healthCommand())
    .addCommand(statusCommand())
    .addCommand(topicCommand())
    .addCommand(produceCommand())
    .addCommand(consumeCommand())
    .addCommand(adminCommand())
    .addCommand(devicesCommand());
}

async function main(argv: string[]): Promise<void> {
  try {
    await tribProgram().parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode === 0 ? exitCodes.ok : exitCodes.usage;
      return;
    }
    console.error(error instanceof ConfigError ? `trib: invalid configuration:\n${error.message}` : describeFailure(error));
    process.exitCode = exitCodes.failed;
  }
}

await main(process.argv);
