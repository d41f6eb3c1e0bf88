import { describe, expect, it } from 'vitest';
import {
  applyMetadataCommand, createMetadataState, type MetadataCommand, type MetadataCommandOutputs, type MetadataState,
} from '../../../src/controller/index.js';
import { TributaryError } from '../../../src/errors/index.js';
import { controlPlaneDefaults, type ControlPlaneSettings } from '../../../src/ingest/control-plane-settings.js';
import { createControlPlane, type ControlPlane } from '../../../src/ingest/control-plane.js';
import type { DevicePeers } from '../../../src/ingest/device-command-sender.js';
import type { ControlWelcomeInfo, DeviceRegistryLink, DeviceRegistryView, DeviceStreamSink } from '../../../src/ingest/device-connections.js';
import type { DeviceCommand, DeviceStatusReport, SendCommandInput } from '../../../src/ingest/device-control-types.js';
import { resolveListDevices, resolveSendCommand } from '../../../src/ingest/send-command-input.js';
import { ManualClock } from '../../support/manual-clock.js';

const settings: ControlPlaneSettings = { ...controlPlaneDefaults, statusIntervalMs: 1_000, sweepIntervalMs: 100 };

const status: DeviceStatusReport = {
  timestampMs: 1, activeSources: [], queueDepthBytes: 7, queueDepthChunks: 1, battery: undefined, firmwareVersion: 'fw', appVersion: 'app',
  freeStorageBytes: 0, networkKind: 'wifi', uploadsPaused: false, uploadRateBytesPerS: 0,
};

/**
 * The controller's registry for a cluster of brokers: the real metadata state machine, applied in
 * the order calls arrive, as the Raft log would; every broker's view is the applied state itself.
 */
class InMemoryRegistry {
  readonly state: MetadataState = createMetadataState();
  private index = 0;

  constructor(readonly clock: ManualClock, brokers: number) {
    for (let brokerId = 1; brokerId <= brokers; brokerId += 1) {
      const { brokerEpoch } = this.apply({ type: 'registerBroker', brokerId, address: `b${brokerId}:1`, rack: '', incarnationId: `i${brokerId}`, nowMs: 0, sessionTimeoutMs: 600_000 });
      this.apply({ type: 'brokerHeartbeat', brokerId, brokerEpoch, metadataVersion: this.index, wantsFence: false, wantsShutdown: false, nowMs: 0, sessionTimeoutMs: 600_000 });
    }
  }

  apply<C extends MetadataCommand>(command: C): MetadataCommandOutputs[C['type']] {
    this.index += 1;
    const { result } = applyMetadataCommand(this.state, command, this.index);
    if (!result.ok) throw new TributaryError(result.code, result.message);
    return result.value;
  }

  /** A call's answer arrives asynchronously, as over gRPC; a rejection is the command's error. */
  private async call<T>(apply: () => T): Promise<T> {
    await Promise.resolve();
    return apply();
  }

  link(brokerId: number): DeviceRegistryLink {
    const nowMs = () => this.clock.nowMs();
    return {
      connect: (deviceId) => this.call(() => this.apply({ type: 'connectDevice', brokerId, brokerEpoch: this.state.brokers.get(brokerId)?.brokerEpoch ?? 0, deviceId, nowMs: nowMs() }).device),
      disconnect: (deviceId, connectionEpoch) => this.call(() => this.apply({ type: 'disconnectDevice', brokerId, deviceId, connectionEpoch, nowMs: nowMs() }).disconnected),
      queue: (deviceId, command) => this.call(() => this.apply({ type: 'queueDeviceCommand', deviceId, command, nowMs: nowMs() })),
      ack: (deviceId, ack) => this.call(() => {
        this.apply({ type: 'ackDeviceCommand', deviceId, ...ack, nowMs: nowMs() });
      }),
    };
  }

  view(): DeviceRegistryView {
    return {
      device: (deviceId) => this.state.devices.get(deviceId),
      devices: () => this.state.devices.values(),
      liveBrokerEpoch: (brokerId) => {
        const broker = this.state.brokers.get(brokerId);
        return broker === undefined || broker.fenced ? undefined : broker.brokerEpoch;
      },
    };
  }
}

/** A device's stream as the broker writes it: what it was sent, and how it ended. */
class RecordingSink implements DeviceStreamSink {
  readonly welcomes: ControlWelcomeInfo[] = [];
  readonly commands: DeviceCommand[] = [];
  ended: TributaryError | undefined | 'open' = 'open';

  welcome(welcome: ControlWelcomeInfo): void {
    this.welcomes.push(welcome);
  }

  command(command: DeviceCommand): void {
    this.commands.push(command);
  }

  end(error: TributaryError | undefined): void {
    this.ended = error;
  }
}

/** Brokers 1..n over one registry, forwarding to each other directly as ControlPlaneService would. */
function cluster(brokers = 3): { clock: ManualClock; registry: InMemoryRegistry; planes: ControlPlane[] } {
  const clock = new ManualClock(1_000_000);
  const registry = new InMemoryRegistry(clock, brokers);
  const planes: ControlPlane[] = [];
  const peers: DevicePeers = {
    sendCommand: (brokerId, input, deadlineMs) => (planes[brokerId - 1] as ControlPlane).sender.send(input, { forwarded: true, deadlineAtMs: clock.nowMs() + deadlineMs }),
    listLocal: (brokerId, input) => Promise.resolve((planes[brokerId - 1] as ControlPlane).listing.listLocal(input)),
  };
  let commandIds = 0;
  for (let brokerId = 1; brokerId <= brokers; brokerId += 1) {
    planes.push(createControlPlane({
      brokerId, registry: registry.link(brokerId), view: registry.view(), peers, clock, settings, newCommandId: () => `generated-${++commandIds}`,
      onBackgroundError: (error) => {
        throw error;
      },
    }));
  }
  return { clock, registry, planes };
}

function send(plane: ControlPlane, overrides: Partial<SendCommandInput> = {}): SendCommandInput {
  return resolveSendCommand({
    deviceIds: ['cam-1'], commandId: 'c1', action: { kind: 'pause', sources: [], durationMs: 0 }, ttlMs: 0, queueIfDisconnected: false, waitForAck: false,
    ackTimeoutMs: 0, issuedBy: 'operator', ...overrides,
  }, plane.settings, plane.newCommandId, plane.clock.nowMs());
}

async function connect(plane: ControlPlane, deviceId = 'cam-1'): Promise<{ sink: RecordingSink; connection: Awaited<ReturnType<ControlPlane['connections']['open']>> }> {
  const sink = new RecordingSink();
  const connection = await plane.connections.open(deviceId, sink);
  connection.report(status);
  return { sink, connection };
}

describe('the control plane on brokers', () => {
  it('welcomes a device with its connection epoch and the status interval', async () => {
    const { planes } = cluster();
    const { sink } = await connect(planes[0] as ControlPlane);
    expect(sink.welcomes).toEqual([{ connectionEpoch: expect.any(Number) as number, statusIntervalMs: 1_000, brokerNodeId: 1, serverTimeMs: 1_000_000 }]);
  });

  it('delivers through the broker holding the stream and answers with the ack; a repeat is not delivered again', async () => {
    const { planes, clock } = cluster();
    const [one, , three] = planes as [ControlPlane, ControlPlane, ControlPlane];
    const { sink, connection } = await connect(one);
    const sent = three.sender.send(send(three, { waitForAck: true }), { forwarded: false, deadlineAtMs: clock.nowMs() + 30_000 });
    await clock.advance(0);
    expect(sink.commands.map((command) => command.commandId)).toEqual(['c1']);
    expect(sink.commands[0]).toMatchObject({ issuedBy: 'operator', expiresAtMs: 1_000_000 + 60_000 });
    connection.acknowledge({ commandId: 'c1', outcome: 'applied', message: '', completedAtMs: 5 });
    expect(await sent).toEqual([{ deviceId: 'cam-1', commandId: 'c1', delivery: 'acknowledged', ack: { commandId: 'c1', outcome: 'applied', message: '', completedAtMs: 5 }, brokerNodeId: 1, error: undefined }]);
    await clock.advance(0);
    const repeat = await three.sender.send(send(three), { forwarded: false, deadlineAtMs: clock.nowMs() + 30_000 });
    expect(repeat[0]).toMatchObject({ delivery: 'acknowledged', ack: { outcome: 'applied' } });
    expect(sink.commands).toHaveLength(1);
  });

  it('answers TIMEOUT, delivered, when the ack does not come within the ack timeout', async () => {
    const { planes, clock } = cluster();
    const [one] = planes as [ControlPlane];
    await connect(one);
    const sent = one.sender.send(send(one, { waitForAck: true, ackTimeoutMs: 2_000 }), { forwarded: false, deadlineAtMs: clock.nowMs() + 30_000 });
    await clock.advance(2_000);
    const [result] = await sent;
    expect(result).toMatchObject({ delivery: 'delivered', brokerNodeId: 1 });
    expect(result?.error).toMatchObject({ code: 'TIMEOUT', message: 'device "cam-1" did not acknowledge command "c1" within 2000 ms; it was delivered and may still be carried out' });
  });

  it('queues for a disconnected device only when asked, and delivers on reconnection to another broker', async () => {
    const { planes, clock } = cluster();
    const [one, two, three] = planes as [ControlPlane, ControlPlane, ControlPlane];
    const first = await connect(one);
    first.connection.end(undefined);
    await clock.advance(0);
    const notQueued = await three.sender.send(send(three), { forwarded: false, deadlineAtMs: clock.nowMs() + 30_000 });
    expect(notQueued[0]).toMatchObject({ delivery: 'notDelivered', error: { code: 'NOT_AVAILABLE' } });
    const unknown = await three.sender.send(send(three, { deviceIds: ['nobody'] }), { forwarded: false, deadlineAtMs: clock.nowMs() + 30_000 });
    expect(unknown[0]).toMatchObject({ delivery: 'notDelivered', error: { code: 'NODE_NOT_FOUND' } });
    const queued = await three.sender.send(send(three, { queueIfDisconnected: true }), { forwarded: false, deadlineAtMs: clock.nowMs() + 30_000 });
    expect(queued[0]).toMatchObject({ delivery: 'queued', brokerNodeId: 0, error: undefined });
    const again = await connect(two);
    expect(again.sink.commands.map((command) => command.commandId)).toEqual(['c1']);
    const page = await three.listing.list(resolveListDevices({ pageSize: 0, pageToken: '', connectedOnly: true, deviceIdPrefix: '' }, settings));
    expect(page.devices).toEqual([expect.objectContaining({ deviceId: 'cam-1', connected: true, brokerNodeId: 2, pendingCommands: 1, lastStatus: status })]);
  });

  it('does not re-send an expired command on reconnection', async () => {
    const { planes, clock } = cluster();
    const [one] = planes as [ControlPlane];
    (await connect(one)).connection.end(undefined);
    await one.sender.send(send(one, { queueIfDisconnected: true, ttlMs: 500 }), { forwarded: false, deadlineAtMs: clock.nowMs() + 30_000 });
    await clock.advance(500);
    expect((await connect(one)).sink.commands).toEqual([]);
  });

  it('fences the older stream: at once on the same broker, within a sweep on another', async () => {
    const { planes, clock, registry } = cluster();
    const [one, two] = planes as [ControlPlane, ControlPlane];
    const first = await connect(one);
    const second = await connect(one);
    expect(first.sink.ended).toMatchObject({ code: 'FENCED' });
    await connect(two);
    expect(second.sink.ended).toBe('open');
    await clock.advance(settings.sweepIntervalMs);
    expect(second.sink.ended).toMatchObject({ code: 'FENCED' });
    expect(registry.state.devices.get('cam-1')?.brokerId).toBe(2);
  });

  it('disconnects a device silent for three status intervals, measured on the injected clock', async () => {
    const { planes, clock, registry } = cluster();
    const [one] = planes as [ControlPlane];
    const { sink, connection } = await connect(one);
    await clock.advance(2_900);
    connection.report(status);
    await clock.advance(2_900);
    expect(sink.ended).toBe('open');
    await clock.advance(200);
    expect(sink.ended).toMatchObject({ code: 'TIMEOUT' });
    expect(registry.state.devices.get('cam-1')).toMatchObject({ brokerId: 0 });
  });

  it('checks every SendCommand bound, naming the value', () => {
    const { planes } = cluster(1);
    const [one] = planes as [ControlPlane];
    expect(() => send(one, { deviceIds: [] })).toThrow('SendCommand names 0 devices; name 1-1000');
    expect(() => send(one, { deviceIds: ['a', 'a'] })).toThrow('SendCommand names device "a" twice; device ids must be distinct');
    expect(() => send(one, { deviceIds: ['bad/id'] })).toThrow('device id "bad/id" must be 1-128 characters of [A-Za-z0-9._:-]');
    expect(() => send(one, { ttlMs: 86_400_001 })).toThrow('ttl_ms 86400001 exceeds the maximum of 86400000 ms');
    expect(() => send(one, { ackTimeoutMs: 300_001 })).toThrow('ack_timeout_ms 300001 exceeds the maximum of 300000 ms');
    expect(send(one, { commandId: '' }).commandId).toBe('generated-1');
    expect(send(one, { ttlMs: 5_000 }).ackTimeoutMs).toBe(5_000);
    expect(() => resolveListDevices({ pageSize: 1_001, pageToken: '', connectedOnly: false, deviceIdPrefix: '' }, settings)).toThrow('page_size 1001 exceeds the maximum of 1000');
  });

  it('bounds the commands waiting for acknowledgements', async () => {
    const { planes } = cluster(1);
    const [one] = planes as [ControlPlane];
    const tight = createControlPlane({
      brokerId: 1,
      registry: { connect: () => Promise.reject(new Error('unused')), disconnect: () => Promise.resolve(true), queue: () => Promise.reject(new Error('unused')), ack: () => Promise.resolve() },
      view: { device: () => undefined, devices: () => [], liveBrokerEpoch: () => undefined },
      peers: { sendCommand: () => Promise.resolve([]), listLocal: () => Promise.resolve([]) },
      clock: one.clock, settings: { ...settings, ackWaitersMax: 1 }, newCommandId: () => 'x', onBackgroundError: () => undefined,
    });
    void tight.connections.waitForAck('cam-1', 'a', 1_000);
    await expect(tight.connections.waitForAck('cam-1', 'b', 1_000)).rejects.toMatchObject({ code: 'RESOURCE_EXHAUSTED' });
    tight.stop();
  });
});
