import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partitionForKey } from '../../src/client/index.js';
import { AdminClient, defaultClientOptions } from '../../src/rpc/clients/index.js';
import { eventually } from '../support/eventually.js';
import type { TestNode } from '../support/controller-quorum.js';
import { startTestNode } from '../support/test-node.js';
import { runTrib } from '../support/trib-process.js';

const waitMs = 20_000;

/** stdout as its lines, without the final newline's empty one. */
function linesOf(stdout: string): string[] {
  return stdout.split('\n').filter((line) => line !== '');
}

describe('trib produce and trib consume against a combined node', () => {
  let node: TestNode;
  let bootstrap: string[];

  beforeAll(async () => {
    node = await startTestNode({ controller: { raft: { tickIntervalMs: 20 } } });
    bootstrap = ['--bootstrap', node.grpcAddress];
    const admin = new AdminClient({ ...defaultClientOptions('cli-produce-consume-test'), deadlineMs: 3_000, bootstrap: [node.grpcAddress] });
    try {
      const active = async () => ((await admin.describeCluster().catch(() => undefined))?.brokers.some((broker) => broker.nodeId === 1 && broker.state === 'active') ? true : undefined);
      await eventually(active, waitMs, 'broker 1 to be active');
      await admin.createTopic('readings', { config: { partitions: 2, replicationFactor: 1 } });
    } finally {
      admin.close();
    }
  }, 60_000);

  afterAll(async () => {
    await node?.stop();
  });

  it('round-trips lines, a key, an empty line and bytes that are not UTF-8, at the offsets produce reported', async () => {
    const input = Buffer.concat([Buffer.from('one\ntwo\n\n'), Buffer.from([0xff, 0xfe, 0x41]), Buffer.from('\nlast')]);
    const produced = await runTrib(['produce', 'readings', ...bootstrap, '--partition', '0', '--json'], { input });
    expect(produced).toMatchObject({ code: 0, stderr: '' });
    expect(linesOf(produced.stdout)).toEqual([1, 2, 3, 4, 5].map((line) => JSON.stringify({ line, partition: 0, offset: line - 1 })));

    const keyed = await runTrib(['produce', 'readings', ...bootstrap, '--key', 'sensor-7', '--acks', 'leader', '--json'], { input: 'k1\nk2\n' });
    const keyPartition = partitionForKey(Buffer.from('sensor-7'), 2);
    const keyOffset = keyPartition === 0 ? 5 : 0;
    expect(keyed).toMatchObject({ code: 0, stderr: '' });
    expect(linesOf(keyed.stdout)).toEqual([
      JSON.stringify({ line: 1, partition: keyPartition, offset: keyOffset }),
      JSON.stringify({ line: 2, partition: keyPartition, offset: keyOffset + 1 }),
    ]);

    const consumed = await runTrib(['consume', 'readings', ...bootstrap, '--partition', '0', '--from-beginning', '--max', '5', '--json']);
    expect(consumed).toMatchObject({ code: 0, stderr: '' });
    expect(linesOf(consumed.stdout)).toEqual([
      '{"partition":0,"offset":0,"key":null,"value":"one"}',
      '{"partition":0,"offset":1,"key":null,"value":"two"}',
      '{"partition":0,"offset":2,"key":null,"value":""}',
      '{"partition":0,"offset":3,"key":null,"valueBase64":"//5B"}',
      '{"partition":0,"offset":4,"key":null,"value":"last"}',
    ]);

    // Every partition, until 1.5 s pass without a new record: the seven records, in order per partition.
    const all = await runTrib(['consume', 'readings', ...bootstrap, '--from-beginning', '--wait-ms', '1500', '--json']);
    expect(all.code).toBe(0);
    const records = linesOf(all.stdout).map((line) => JSON.parse(line) as { partition: number; offset: number; key: string | null });
    expect(records).toHaveLength(7);
    for (const partition of [0, 1]) {
      const offsets = records.filter((record) => record.partition === partition).map((record) => record.offset);
      expect(offsets).toEqual(offsets.toSorted((left, right) => left - right));
    }
    expect(records.filter((record) => record.key === 'sensor-7')).toEqual([
      { partition: keyPartition, offset: keyOffset, key: 'sensor-7', value: 'k1' },
      { partition: keyPartition, offset: keyOffset + 1, key: 'sensor-7', value: 'k2' },
    ]);

    const described = await runTrib(['topic', 'describe', 'readings', ...bootstrap]);
    expect(described.code).toBe(0);
    const partitionZeroEnd = keyPartition === 0 ? 7 : 5;
    expect(described.stdout).toContain(`  partition 0: leader 1, replicas [1], isr [1], leader epoch 1, high watermark ${partitionZeroEnd}, log end offset ${partitionZeroEnd}\n`);
    expect(described.stdout).toContain(`  partition 1: leader 1, replicas [1], isr [1], leader epoch 1, high watermark ${7 - partitionZeroEnd}, log end offset ${7 - partitionZeroEnd}\n`);
    const describedJson = await runTrib(['topic', 'describe', 'readings', ...bootstrap, '--json']);
    const { topics } = JSON.parse(describedJson.stdout) as { topics: Array<{ partitions: Array<Record<string, unknown>> }> };
    expect(topics[0]?.partitions.map(({ partition, highWatermark, logEndOffset, logStartOffset }) => ({ partition, highWatermark, logEndOffset, logStartOffset }))).toEqual([
      { partition: 0, highWatermark: partitionZeroEnd, logEndOffset: partitionZeroEnd, logStartOffset: 0 },
      { partition: 1, highWatermark: 7 - partitionZeroEnd, logEndOffset: 7 - partitionZeroEnd, logStartOffset: 0 },
    ]);
  });

  it('reports a record it could not send on its own line and exits 1', async () => {
    const results = await Promise.all([
      runTrib(['produce', 'readings', ...bootstrap, '--partition', '7', '--json'], { input: 'a\nb\n' }),
      runTrib(['produce', 'ghost', ...bootstrap, '--json'], { input: 'a\n' }),
      runTrib(['produce', 'readings', ...bootstrap, '--partition', '7'], { input: 'a\n' }),
      runTrib(['consume', 'readings', ...bootstrap, '--partition', '7', '--wait-ms', '100']),
      runTrib(['produce', 'readings', ...bootstrap, '--acks', 'some'], { input: 'a\n' }),
    ]);
    const missing = { code: 'PARTITION_NOT_FOUND', message: 'topic "readings" has 2 partitions; partition 7 does not exist', retriable: false };
    expect(results.map(({ code, stdout, stderr }) => ({ code, stdout, stderr }))).toEqual([
      { code: 1, stdout: `${JSON.stringify({ line: 1, error: missing })}\n${JSON.stringify({ line: 2, error: missing })}\n`, stderr: '' },
      { code: 1, stdout: `${JSON.stringify({ line: 1, error: { code: 'TOPIC_NOT_FOUND', message: 'topic "ghost" does not exist', retriable: false } })}\n`, stderr: '' },
      { code: 1, stdout: 'produced 0 records to readings; 1 failed\n', stderr: `trib: line 1: PARTITION_NOT_FOUND: ${missing.message}\n` },
      { code: 1, stdout: '', stderr: `trib: PARTITION_NOT_FOUND: ${missing.message}\n` },
      { code: 1, stdout: '', stderr: 'trib: --acks must be one of all, leader, none, got "some"\n' },
    ]);
  });

  it('starts at the high watermark without --from-beginning and leaves after --wait-ms without records', async () => {
    const result = await runTrib(['consume', 'readings', ...bootstrap, '--wait-ms', '300']);
    expect(result).toMatchObject({ code: 0, stdout: '', stderr: '' });
    // --wait-ms 0 still polls once and prints what is there.
    const now = await runTrib(['consume', 'readings', ...bootstrap, '--partition', '0', '--from-beginning', '--wait-ms', '0', '--max', '2']);
    expect(now).toMatchObject({ code: 0, stdout: 'partition 0, offset 0, key (none): one\npartition 0, offset 1, key (none): two\n', stderr: '' });
  });
});
