import type { RunningNode } from '../node/start-node.js';
import type { Logger } from '../observability/index.js';

/**
 * SIGINT or SIGTERM stops `node` gracefully and exits 0 (1 if the shutdown itself failed). Later
 * signals while it stops are logged and ignored: Ctrl-C under `npm start` reaches the node twice
 * (from the terminal and relayed by npm and tsx), and the default action of the second would
 * cut the graceful shutdown short. The shutdown is bounded by limits.shutdownGraceMs anyway.
 */
export function stopOnSignals(node: RunningNode, logger: Logger): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.info({ signal }, 'already shutting down');
      return;
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    node.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

/** A node that stopped itself after a fatal failure: exit non-zero so a supervisor restarts it. */
export function exitOnFatal(): void {
  process.exit(1);
}
