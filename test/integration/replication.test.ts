import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Producer } from '../../src/client/index.js';
import type { TributaryError } from '../../src/errors/index.js';
import { AdminClient, decodeRecordBatch, defaultClientOptions, MetadataClient, type PartitionInfo } from '../../src/rpc/clients/index.js';
import { Acks } from '../../src/rpc/generated/tributary/client/v1/producer_service.js';
import { batchOf, dataPlaneClients, header, unary } from '../support/data-plane-calls.js';
import { LocalCluster } from '../support/local-cluster.js';

const waitMs = 30_000;
const topic = 'replicated';
const partitionCount = 3;
/** Short, so a paused follower leaves the ISR within the test's patience. */
const replicaLagTimeMaxMs = 1_500;

/** Polls `probe` until it answers a value, or fails naming `what`. */
async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = waitMs): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('replication across broker processes', () => {
  let cluster: LocalCluster;
  let admin: AdminClient;
  let metadata: MetadataClient;

  beforeAll(async () => {
    cluster = await LocalCluster.create({
      controllers: 1, brokers: 3, settings: { controller: { raft: { tickIntervalMs: 20 } }, broker: { replicaLagTimeMaxMs } },
    });
    await cluster.up();
    const options = { ...defaultClientOptions('replication-test'), deadlineMs: 5_000, bootstrap: cluster.bootstrap.split(',') };
    admin = new AdminClient(options);
    metadata = new MetadataClient(options);
    await until(async () => ((await admin.describeCluster({ includeFenced: false })).brokers.length === 3 ? true : undefined), 'three active brokers');
    await admin.createTopic(topic, { config: { partitions: partitionCount, replicationFactor: 3, minInSyncReplicas: 2 } });
  }, 120_000);

  afterAll(async () => {
    admin.close();
    metadata.close();
    await cluster.destroy();
  });

  const partitionNow = async (index = 0): Promise<PartitionInfo> => {
    const found = await metadata.topics([topic], { consistency: 'linearizable' });
    const partition = found.topics[0]?.topic?.partitions[index];
    if (partition === undefined) throw new Error(`the topic has no partition ${index}`);
    return partition;
  };

  const produce = async (values: string[], partition = 0): Promise<{ baseOffset: number } | TributaryError> => {
    const { leader } = await partitionNow(partition);
    const clients = dataPlaneClients(cluster.address(leader));
    try {
      return await unary(clients.producer.produce.bind(clients.producer), {
        header: header(), acks: Acks.ALL, timeoutMs: 10_000, partitionBatch: { topicPartition: { topic, partition }, batch: batchOf(values), currentLeaderEpoch: 0 },
      });
    } catch (error) {
      return error as TributaryError;
    } finally {
      clients.close();
    }
  };

  const readAll = async (partition: number): Promise<string[]> => {
    const { leader } = await partitionNow(partition);
    const clients = dataPlaneClients(cluster.address(leader));
    try {
      const values: string[] = [];
      for (;;) {
        const response = await unary(clients.consumer.fetch.bind(clients.consumer), {
          header: header(), partitions: [{ topicPartition: { topic, partition }, fetchOffset: values.length, maxBytes: 0, currentLeaderEpoch: 0 }], maxWaitMs: 0, minBytes: 0, maxBytes: 0,
        });
        const records = response.results[0]?.batches.flatMap((batch) => decodeRecordBatch(batch)) ?? [];
        const fresh = records.filter((record) => record.offset >= values.length);
        if (fresh.length === 0) return values;
        for (const record of fresh) values[record.offset] = new TextDecoder().decode(record.value);
      }
    } finally {
      clients.close();
    }
  };

  it('loses no acknowledged record and writes none twice while leaders are SIGKILLed under an idempotent acks=all producer, and a killed broker rejoins the ISR', async () => {
    // Per partition: offset → the numbered record acknowledged there.
    const acknowledged = Array.from({ length: partitionCount }, () => new Map<number, string>());
    const acknowledgedCount = () => acknowledged.reduce((sum, records) => sum + records.size, 0);
    // The SDK's defaults: acks all, idempotent, retries across leader changes. Short batches keep many produces in flight.
    const sdk = new Producer({ bootstrap: cluster.bootstrap.split(','), lingerMs: 1, backoffMsMin: 20, backoffMsMax: 200, deliveryTimeoutMs: 60_000 });
    let producing = true;
    let sequence = 0;
    const failures: string[] = [];
    // Numbered records round the partitions, a few in flight at once; each is retried by the SDK until acknowledged or given up.
    const writer = async () => {
      while (producing) {
        const partition = sequence % partitionCount;
        const value = `r${sequence++}`;
        try {
          const sent = await sdk.sendRecord(topic, { value, partition });
          acknowledged[partition]?.set(sent.offset, value);
        } catch (error) {
          failures.push(`${value}: ${(error as Error).message}`);
        }
      }
    };
    const writers = Promise.all(Array.from({ length: 6 }, writer));
    const killLeader = async (): Promise<number> => {
      const countBefore = acknowledgedCount();
      await until(() => Promise.resolve(acknowledgedCount() >= countBefore + 30 ? true : undefined), 'thirty more acknowledged records');
      const before = await partitionNow();
      await cluster.kill(before.leader);
      await until(async () => {
        const now = await partitionNow();
        return now.leader !== 0 && now.leader !== before.leader && now.leaderEpoch > before.leaderEpoch ? now : undefined;
      }, `a leader after broker ${before.leader}`);
      return before.leader;
    };
    try {
      const firstKilled = await killLeader();
      await cluster.up();
      await until(async () => ((await partitionNow()).isr.includes(firstKilled) ? true : undefined), `broker ${firstKilled} to rejoin the ISR after its restart`);
      await killLeader();
      const countAfter = acknowledgedCount();
      await until(() => Promise.resolve(acknowledgedCount() >= countAfter + 30 ? true : undefined), 'acknowledgements from the third leader');
    } finally {
      producing = false;
      await writers;
      await sdk.close();
    }
    for (const [partition, records] of acknowledged.entries()) {
      const values = await readAll(partition);
      const lost = [...records].filter(([offset, value]) => values[offset] !== value);
      expect(lost, `partition ${partition}`).toEqual([]);
      // Exactly once per offset: no record, acknowledged or not, is in the log twice (retries across leader kills included).
      const twice = values.filter((value, offset) => values.indexOf(value) !== offset);
      expect(twice, `partition ${partition}`).toEqual([]);
    }
    expect(acknowledgedCount()).toBeGreaterThanOrEqual(90);
    // The SDK retried through both kills: nothing was given up.
    expect(failures).toEqual([]);
    await cluster.up();
  }, 180_000);

  it('a paused follower leaves the ISR, acks=all fails fast below min in-sync replicas, and all recovers after', async () => {
    const start = await until(async () => {
      const now = await partitionNow();
      return now.isr.length === 3 ? now : undefined;
    }, 'every replica in the ISR');
    const followers = start.replicas.filter((id) => id !== start.leader);
    const [first, second] = followers as [number, number];
    const pids = [cluster.pid(first), cluster.pid(second)];
    process.kill(pids[0] ?? 0, 'SIGSTOP');
    try {
      await produce(['while-one-paused']);
      await until(async () => ((await partitionNow()).isr.includes(first) ? undefined : true), `broker ${first} to leave the ISR`);
      expect('baseOffset' in (await produce(['with-two-in-sync']))).toBe(true);
      const scraped = await (await fetch(`http://${cluster.metricsAddress(start.leader)}/metrics`)).text();
      expect(scraped).toMatch(/trib_broker_under_replicated_partitions [1-9]/);
      expect(scraped).toMatch(/trib_broker_isr_changes_total\{change="shrink",outcome="committed"\} [1-9]/);
      expect(scraped).toMatch(/trib_broker_partitions\{role="leading"\} [1-9]/);
      process.kill(pids[1] ?? 0, 'SIGSTOP');
      await until(async () => ((await partitionNow()).isr.includes(second) ? undefined : true), `broker ${second} to leave the ISR`);
      const refused = await produce(['with-one-in-sync']);
      expect(refused).toMatchObject({ code: 'NOT_ENOUGH_REPLICAS' });
    } finally {
      for (const pid of pids) process.kill(pid ?? 0, 'SIGCONT');
    }
    await until(async () => ((await partitionNow()).isr.length === 3 ? true : undefined), 'both followers to rejoin the ISR');
    expect('baseOffset' in (await produce(['after-recovery']))).toBe(true);
  }, 120_000);
});
