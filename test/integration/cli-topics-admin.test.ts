import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSingleControllerWithBrokers, startTestQuorum, type TestNode } from '../support/controller-quorum.js';
import { runTrib } from '../support/trib-process.js';

describe('trib topic and trib status against a single controller with three brokers', () => {
  let node: TestNode;
  let bootstrap: string[];

  beforeAll(async () => {
    node = await startSingleControllerWithBrokers([1, 2, 3]);
    bootstrap = ['--bootstrap', node.grpcAddress];
  });
  afterAll(async () => {
    await node?.stop();
  });

  it('creates, describes, alters, lists and deletes a topic', async () => {
    const created = await runTrib(['topic', 'create', 'orders', ...bootstrap, '--partitions', '2', '--retention-ms', '60000', '--label', 'team=ingest', '--json']);
    expect(created).toMatchObject({ code: 0, stderr: '' });
    const { topic } = JSON.parse(created.stdout) as { topic: { topicId: string; config: Record<string, unknown>; partitions: unknown[] } };
    expect(topic.config).toMatchObject({ partitions: 2, replicationFactor: 3, minInSyncReplicas: 2, retentionMs: 60_000, labels: { team: 'ingest' } });
    expect(topic.partitions).toHaveLength(2);

    const described = await runTrib(['topic', 'describe', 'orders', ...bootstrap]);
    expect(described.code).toBe(0);
    expect(described.stdout).toContain(`topic orders (id ${topic.topicId})`);
    expect(described.stdout).toContain('partitions 2, replication factor 3, min in-sync replicas 2, retention 60000 ms and no size bound, compression none');
    expect(described.stdout).toContain('  labels: team=ingest');
    expect(described.stdout).toMatch(/ {2}partition 1: leader \d, replicas \[\d,\d,\d\], isr \[\d,\d,\d\], leader epoch 1/);
    // These brokers only heartbeat: their leaders cannot be asked for offsets, and describe says so instead of inventing them.
    expect(described.stdout).toMatch(/ {2}partition 1: .*, leader epoch 1, offsets unknown \(NOT_AVAILABLE: broker (\d) at 127\.0\.0\.1:2000\1 did not answer ListOffsets: /);

    const altered = await runTrib(['topic', 'alter', 'orders', ...bootstrap, '--compression', 'zstd', '--label', 'owner=ana', '--remove-label', 'team']);
    expect(altered.code).toBe(0);
    expect(altered.stdout).toContain('compression zstd');
    expect(altered.stdout).toContain('  labels: owner=ana');

    const listed = await runTrib(['topic', 'list', ...bootstrap]);
    expect(listed).toMatchObject({ code: 0, stdout: `orders  partitions 2  replication factor 3  id ${topic.topicId}\n` });

    expect(await runTrib(['topic', 'delete', 'orders', ...bootstrap])).toMatchObject({ code: 0, stdout: expect.stringMatching(/^deleted topic orders \(id [0-9a-f]{16}\)/) as unknown });
    expect(await runTrib(['topic', 'list', ...bootstrap])).toMatchObject({ code: 0, stdout: 'no topics\n' });
  });

  it('names the bad value in errors', async () => {
    // Independent processes: run them side by side, each start of tsx costs a second or two.
    const results = await Promise.all([
      runTrib(['topic', 'create', 'x', ...bootstrap, '--partitions', 'many']),
      runTrib(['topic', 'create', 'x', ...bootstrap, '--compression', 'gzip']),
      runTrib(['topic', 'create', 'x', ...bootstrap, '--replication-factor', '2', '--min-insync-replicas', '3']),
      runTrib(['topic', 'describe', 'ghost', ...bootstrap]),
      runTrib(['topic', 'list']),
      runTrib(['topic', 'list', '--bootstrap', 'nohost']),
    ]);
    expect(results.map(({ code, stdout, stderr }) => ({ code, stdout, stderr }))).toEqual([
      { code: 1, stdout: '', stderr: 'trib: --partitions must be an integer ≥ 1, got "many"\n' },
      { code: 1, stdout: '', stderr: 'trib: --compression must be one of none, lz4, zstd, got "gzip"\n' },
      { code: 1, stdout: '', stderr: 'trib: INVALID_REQUEST: topic "x": minInSyncReplicas 3 must be from 1 to the replication factor 2\n' },
      { code: 1, stdout: 'topic ghost: TOPIC_NOT_FOUND: topic "ghost" does not exist\n', stderr: '' },
      { code: 1, stdout: '', stderr: 'trib: --bootstrap (or TRIB_BOOTSTRAP) is required: the controller addresses, host:port[,host:port]\n' },
      { code: 1, stdout: '', stderr: 'trib: --bootstrap address "nohost" is not host:port with a port from 1 to 65535\n' },
    ]);
  });

  it('takes the bootstrap list from TRIB_BOOTSTRAP and prints the status as JSON', async () => {
    const result = await runTrib(['status', '--json'], { env: { TRIB_BOOTSTRAP: node.grpcAddress } });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      clusterId: node.identity.clusterId,
      leaderId: 1,
      controllers: [{ id: 1, address: node.grpcAddress, role: 'voter', raftRole: 'leader', leader: 1 }],
      brokers: [{ nodeId: 1, state: 'active' }, { nodeId: 2, state: 'active' }, { nodeId: 3, state: 'active' }],
    });
  });
});

describe('trib status and trib admin against a three-controller quorum', () => {
  let quorum: Awaited<ReturnType<typeof startTestQuorum>>;

  beforeAll(async () => {
    quorum = await startTestQuorum(3);
  });
  afterAll(async () => {
    await quorum?.stop();
  });

  it('asks every controller, naming each one\'s role, term and progress, from one bootstrap address', async () => {
    const follower = quorum.nodes.find((node) => node !== quorum.leader) as TestNode;
    const result = await runTrib(['status', '--bootstrap', follower.grpcAddress]);
    expect(result.code).toBe(0);
    const leaderId = quorum.leader.identity.nodeId;
    expect(result.stdout).toContain(`controller leader ${leaderId}`);
    for (const node of quorum.nodes) {
      const role = node === quorum.leader ? 'leader' : 'follower';
      expect(result.stdout).toMatch(new RegExp(`  ${node.identity.nodeId} ${node.grpcAddress} voter ${role}: term \\d+, commit \\d+, applied \\d+, leader ${leaderId}`));
    }
  });

  it('transfers leadership and refuses a bad controller id', async () => {
    const target = quorum.nodes.find((node) => node !== quorum.leader) as TestNode;
    const bootstrap = ['--bootstrap', quorum.nodes.map((node) => node.grpcAddress).join(',')];
    const moved = await runTrib(['admin', 'transfer-leadership', '--to', String(target.identity.nodeId), ...bootstrap]);
    expect(moved).toMatchObject({ code: 0, stdout: expect.stringMatching(new RegExp(`^controller ${target.identity.nodeId} leads in term \\d+\\n$`)) as unknown });
    const [badId, badAddress] = await Promise.all([
      runTrib(['admin', 'remove-controller', '--id', 'zero', ...bootstrap]),
      runTrib(['admin', 'add-controller', '--id', '9', '--address', 'bad', ...bootstrap]),
    ]);
    expect(badId).toMatchObject({ code: 1, stderr: 'trib: --id must be an integer from 1 to 4294967295, got "zero"\n' });
    expect(badAddress).toMatchObject({ code: 1, stderr: 'trib: INVALID_REQUEST: address "bad" is not host:port with a port from 1 to 65535\n' });
  });
});
