import type { RunningNode } from '../node/start-node.js';
import type { Logger } from '../observability/index.js';

/** SIGINT or SIGTERM stops `node` gracefully and exits 0 (1 if the shutdown itself failed). */
export function stopOnSignals(node: RunningNode, logger: Logger): void {
  const stop = (signal: NodeJS.Signals) => {
    logger.info({ signal }, 'shutting down');
    node.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/** A node that stopped itself after a fatal failure: exit non-zero so a supervisor restarts it. */
export function exitOnFatal(): void {
  process.exit(1);
}
