import { Admin } from '../../src/client/index.js';
import { eventually } from './eventually.js';
import { LocalCluster, type LocalClusterOptions } from './local-cluster.js';

/** How long the brokers of a fresh local cluster may take to register and become active. */
const brokersActiveWaitMs = 30_000;

/**
 * A LocalCluster for SDK and CLI data-plane tests: quick elections, brokers fenced 2 s after they
 * go silent (so a SIGKILLed leader's partitions move within a test's patience), started, with an
 * SDK Admin on it, once `brokers` brokers are active.
 */
export async function startSdkCluster(options: Omit<LocalClusterOptions, 'settings'>, brokers: number): Promise<{ cluster: LocalCluster; admin: Admin }> {
  const cluster = await LocalCluster.create({ ...options, settings: { controller: { raft: { tickIntervalMs: 20 }, brokerSessionTimeoutMs: 2_000 } } });
  await cluster.up();
  const admin = new Admin({ bootstrap: cluster.bootstrap.split(','), deadlineMs: 3_000 });
  await eventually(async () => {
    const described = await admin.describeCluster().catch(() => undefined);
    return described?.brokers.filter((broker) => broker.state === 'active').length === brokers ? true : undefined;
  }, brokersActiveWaitMs, `${brokers} active brokers`);
  return { cluster, admin };
}
