import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CommandOutcome, type DeviceCommand, DeviceControl, type DeviceControlEvent, type DeviceStatusReport } from '../../src/client/index.js';
import { ControlPlaneClient, defaultClientOptions, MetadataClient } from '../../src/rpc/clients/index.js';
import { eventually } from '../support/eventually.js';
import { LocalCluster } from '../support/local-cluster.js';
import { runTrib } from '../support/trib-process.js';

const status: DeviceStatusReport = {
  timestampMs: 1, activeSources: [], queueDepthBytes: 4096, queueDepthChunks: 2, battery: { levelPercent: 80, charging: false }, firmwareVersion: 'fw-1',
  appVersion: 'collector-1', freeStorageBytes: 1_000_000, networkKind: 'wifi', uploadsPaused: false, uploadRateBytesPerS: 0,
};

/** One run of a device process: its Control stream and what it was told to do. */
function device(address: string, client: ControlPlaneClient): { control: DeviceControl; commands: DeviceCommand[]; events: DeviceControlEvent[] } {
  const commands: DeviceCommand[] = [];
  const events: DeviceControlEvent[] = [];
  const control = new DeviceControl({
    deviceId: 'cam-1', brokers: [address], link: client, status: () => status, onEvent: (event) => events.push(event),
    onCommand: (command): CommandOutcome => {
      commands.push(command);
      return { outcome: 'applied' };
    },
  });
  control.start();
  return { control, commands, events };
}

describe('the control plane on a 3-node cluster of separate processes', () => {
  let cluster: LocalCluster;
  let client: ControlPlaneClient;
  let metadata: MetadataClient;
  const runs: Array<ReturnType<typeof device>> = [];

  beforeAll(async () => {
    cluster = await LocalCluster.create({ controllers: 3, combined: true, settings: { controller: { raft: { tickIntervalMs: 20 } } } });
    await cluster.up();
    const options = { ...defaultClientOptions('control-plane-test'), deadlineMs: 5_000, bootstrap: cluster.bootstrap.split(',') };
    client = new ControlPlaneClient(options);
    metadata = new MetadataClient(options);
    await eventually(async () => {
      const { brokers } = await metadata.clusterMetadata().catch(() => ({ brokers: [] }));
      return brokers.filter((broker) => broker.state === 'active').length === 3 ? true : undefined;
    }, 60_000, 'three active brokers');
  }, 150_000);

  afterAll(async () => {
    for (const run of runs) run.control.close();
    client?.close();
    metadata?.close();
    await cluster?.destroy();
  });

  /** Waits until broker `via`'s view of the registry shows the device on `brokerId` (0: disconnected). */
  async function heldBy(via: number, brokerId: number): Promise<void> {
    await eventually(async () => {
      const page = await client.listDevices(cluster.address(via), { pageSize: 10, pageToken: '', connectedOnly: false, deviceIdPrefix: 'cam-' });
      const cam = page.devices.find((info) => info.deviceId === 'cam-1');
      return cam !== undefined && cam.brokerNodeId === brokerId && cam.connected === (brokerId !== 0) ? true : undefined;
    }, 20_000, `broker ${via} to see cam-1 held by broker ${brokerId}`);
  }

  it('delivers a command sent through broker 3 to a device connected to broker 1, and answers its ack', async () => {
    const first = device(cluster.address(1), client);
    runs.push(first);
    await eventually(() => Promise.resolve(first.control.connection), 20_000, 'the device connected to broker 1');
    expect(first.control.connection?.brokerNodeId).toBe(1);
    await heldBy(3, 1);
    const [result] = await client.sendCommand(cluster.address(3), {
      deviceIds: ['cam-1'], commandId: 'pause-1', action: { kind: 'pause', sources: [], durationMs: 0 }, ttlMs: 60_000, queueIfDisconnected: false,
      waitForAck: true, ackTimeoutMs: 10_000,
    }, { deadlineMs: 15_000 });
    expect(result).toMatchObject({ deviceId: 'cam-1', commandId: 'pause-1', delivery: 'acknowledged', brokerNodeId: 1, ack: { outcome: 'applied' }, error: undefined });
    expect(first.commands.map((command) => command.commandId)).toEqual(['pause-1']);
  }, 60_000);

  it('holds a command for the disconnected device and delivers it when the device reconnects to broker 2', async () => {
    runs[0]?.control.close();
    await heldBy(3, 0);
    const [queued] = await client.sendCommand(cluster.address(3), {
      deviceIds: ['cam-1'], commandId: 'flush-1', action: { kind: 'flush', sources: [] }, ttlMs: 120_000, queueIfDisconnected: true, waitForAck: false, ackTimeoutMs: 0,
    });
    expect(queued).toMatchObject({ delivery: 'queued', brokerNodeId: 0, error: undefined });
    const second = device(cluster.address(2), client);
    runs.push(second);
    await eventually(() => Promise.resolve(second.commands.length > 0 ? true : undefined), 20_000, 'the queued command on broker 2');
    expect(second.control.connection?.brokerNodeId).toBe(2);
    expect(second.commands.map((command) => command.commandId)).toEqual(['flush-1']);
    // A repeat of the first command is answered from the registry and not delivered again.
    await heldBy(1, 2);
    const [repeat] = await client.sendCommand(cluster.address(1), {
      deviceIds: ['cam-1'], commandId: 'pause-1', action: { kind: 'pause', sources: [], durationMs: 0 }, ttlMs: 60_000, queueIfDisconnected: false,
      waitForAck: false, ackTimeoutMs: 0,
    });
    expect(repeat).toMatchObject({ delivery: 'acknowledged', ack: { outcome: 'applied' } });
    expect(second.commands).toHaveLength(1);
  }, 60_000);

  it('trib devices list shows the device on broker 2 with its last status', async () => {
    const listed = await runTrib(['devices', 'list', '--bootstrap', cluster.bootstrap, '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    const { devices: infos } = JSON.parse(listed.stdout) as { devices: Array<{ deviceId: string; connected: boolean; brokerNodeId: number; lastStatus?: { appVersion: string } }> };
    expect(infos).toEqual([expect.objectContaining({ deviceId: 'cam-1', connected: true, brokerNodeId: 2, lastStatus: expect.objectContaining({ appVersion: 'collector-1' }) as unknown })]);
    const sent = await runTrib(['devices', 'send', 'cam-1', '--set', 'upload.max_bytes_per_s=1000', '--wait', '--bootstrap', cluster.bootstrap]);
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stdout).toMatch(/^cam-1 {2}acknowledged {2}applied {2}via broker 2 {2}command /);
  }, 60_000);

  it('fences the older stream when the device opens a newer one on another broker', async () => {
    const older = runs.at(-1);
    const newer = device(cluster.address(3), client);
    runs.push(newer);
    await eventually(() => Promise.resolve(newer.control.connection), 20_000, 'the newer stream on broker 3');
    const fenced = await eventually(() => Promise.resolve(older?.events.find((event) => event.kind === 'fenced')), 20_000, 'the older stream fenced');
    expect(fenced).toMatchObject({ kind: 'fenced', error: { code: 'FENCED' } });
    expect(older?.control.connection).toBeUndefined();
  }, 60_000);
});
