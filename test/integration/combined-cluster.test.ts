import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Admin } from '../../src/client/index.js';
import type { LocalCluster } from '../support/local-cluster.js';
import { startSdkCluster } from '../support/sdk-cluster.js';
import { runTrib } from '../support/trib-process.js';

interface Acknowledged {
  line: number;
  partition: number;
  offset: number;
}

describe('the quick start on three combined node processes (the shape of cluster/local.yaml)', () => {
  let cluster: LocalCluster;
  let admin: Admin;
  let bootstrap: string[];

  beforeAll(async () => {
    ({ cluster, admin } = await startSdkCluster({ controllers: 3, combined: true }, 3));
    bootstrap = ['--bootstrap', cluster.bootstrap];
  }, 120_000);

  afterAll(async () => {
    admin?.close();
    await cluster?.destroy();
  });

  async function produce(from: number, count: number): Promise<Acknowledged[]> {
    const input = Array.from({ length: count }, (_, index) => `record ${from + index}\n`).join('');
    const result = await runTrib(['produce', 'readings', ...bootstrap, '--json'], { input, timeoutMs: 60_000 });
    expect(result).toMatchObject({ code: 0, stderr: '' });
    return result.stdout.trim().split('\n').map((line) => JSON.parse(line) as Acknowledged);
  }

  it('reads back every record acknowledged with acks=all at its offset, across a SIGKILLed partition leader', async () => {
    const created = await runTrib(['topic', 'create', 'readings', ...bootstrap, '--partitions', '3', '--replication-factor', '3']);
    expect(created.code).toBe(0);
    const first = await produce(0, 30);
    const { topics } = await admin.describeTopics(['readings']);
    const leader = topics[0]?.topic?.partitions[0]?.leader ?? 0;
    await cluster.kill(leader);
    const second = await produce(30, 30);
    const acknowledged = [...first, ...second.map((record) => ({ ...record, line: record.line + 30 }))];
    expect(acknowledged.map((record) => record.line)).toEqual(Array.from({ length: 60 }, (_, index) => index + 1));

    const consumed = await runTrib(['consume', 'readings', ...bootstrap, '--from-beginning', '--max', '60', '--json'], { timeoutMs: 60_000 });
    expect(consumed).toMatchObject({ code: 0, stderr: '' });
    const records = consumed.stdout.trim().split('\n').map((line) => JSON.parse(line) as { partition: number; offset: number; value: string });
    const byPosition = new Map(records.map((record) => [`${record.partition}/${record.offset}`, record.value]));
    expect(acknowledged.map((record) => byPosition.get(`${record.partition}/${record.offset}`))).toEqual(acknowledged.map((record) => `record ${record.line - 1}`));
    for (const partition of [0, 1, 2]) {
      const offsets = records.filter((record) => record.partition === partition).map((record) => record.offset);
      expect(offsets).toEqual(offsets.map((_, index) => index));
    }
  });
});
