import { describe, expect, it } from 'vitest';
import { decodeMetadataSnapshot, encodeMetadataSnapshot, metadataLimits, type DeviceCommandRecord, type DeviceRecord } from '../../../src/controller/index.js';
import { MetadataHarness } from './metadata-harness.js';

function command(commandId: string, expiresAtMs = 60_000, overrides: Partial<DeviceCommandRecord> = {}): DeviceCommandRecord {
  return { commandId, issuedAtMs: 1, expiresAtMs, issuedBy: 'op', action: { kind: 'pause', sources: [], durationMs: 0 }, ...overrides };
}

function setup(): { harness: MetadataHarness; connect: (deviceId: string, brokerId?: number, nowMs?: number) => DeviceRecord } {
  const harness = new MetadataHarness();
  harness.liveBrokers(3);
  const connect = (deviceId: string, brokerId = 1, nowMs = 10): DeviceRecord =>
    harness.ok({ type: 'connectDevice', brokerId, brokerEpoch: harness.state.brokers.get(brokerId)?.brokerEpoch ?? 0, deviceId, nowMs }).device;
  return { harness, connect };
}

describe('the device registry', () => {
  it('gives every connection a higher epoch, on any broker, and ignores the end of a stale stream', () => {
    const { harness, connect } = setup();
    const first = connect('cam-1', 1);
    const second = connect('cam-1', 2, 20);
    expect(second.connectionEpoch).toBeGreaterThan(first.connectionEpoch);
    expect(second).toMatchObject({ brokerId: 2, connectedSinceMs: 20 });
    expect(harness.ok({ type: 'disconnectDevice', brokerId: 1, deviceId: 'cam-1', connectionEpoch: first.connectionEpoch, nowMs: 30 })).toEqual({ disconnected: false });
    expect(harness.state.devices.get('cam-1')?.brokerId).toBe(2);
    expect(harness.ok({ type: 'disconnectDevice', brokerId: 2, deviceId: 'cam-1', connectionEpoch: second.connectionEpoch, nowMs: 40 })).toEqual({ disconnected: true });
    expect(harness.state.devices.get('cam-1')).toMatchObject({ brokerId: 0, connectedSinceMs: 0, lastSeenMs: 40, connectionEpoch: second.connectionEpoch });
    expect(harness.deltas.at(-1)).toMatchObject({ kind: 'deviceChanged', device: { deviceId: 'cam-1', brokerId: 0 } });
  });

  it('refuses a replaced broker and bad device ids, naming the value', () => {
    const { harness } = setup();
    const epoch = harness.state.brokers.get(1)?.brokerEpoch ?? 0;
    harness.register(1, '', 'restarted');
    expect(harness.fail({ type: 'connectDevice', brokerId: 1, brokerEpoch: epoch, deviceId: 'cam-1', nowMs: 1 }).code).toBe('FENCED');
    const epochNow = harness.state.brokers.get(1)?.brokerEpoch ?? 0;
    expect(harness.fail({ type: 'connectDevice', brokerId: 1, brokerEpoch: epochNow, deviceId: 'cam 1', nowMs: 1 }).message)
      .toBe('device id "cam 1" must be 1-128 characters of [A-Za-z0-9._:-]');
    expect(harness.fail({ type: 'queueDeviceCommand', deviceId: 'ghost', command: command('c1'), nowMs: 1 })).toEqual({
      code: 'NODE_NOT_FOUND', message: 'device "ghost" is not in the registry; a device is known once it has opened a Control stream',
    });
  });

  it('queues idempotently on the command id, and an ack ends the command and answers later repeats', () => {
    const { harness, connect } = setup();
    connect('cam-1');
    expect(harness.ok({ type: 'queueDeviceCommand', deviceId: 'cam-1', command: command('c1'), nowMs: 11 })).toMatchObject({ status: 'queued' });
    const deltas = harness.deltas.length;
    expect(harness.ok({ type: 'queueDeviceCommand', deviceId: 'cam-1', command: command('c1', 90_000), nowMs: 12 }))
      .toMatchObject({ status: 'pending', command: { expiresAtMs: 60_000 } });
    expect(harness.deltas.length).toBe(deltas);
    expect(harness.state.deviceCommandCount).toBe(1);
    harness.ok({ type: 'ackDeviceCommand', deviceId: 'cam-1', commandId: 'c1', outcome: 'applied', message: '', completedAtMs: 13, nowMs: 14 });
    expect(harness.state.devices.get('cam-1')?.commands).toEqual([]);
    expect(harness.state.deviceCommandCount).toBe(0);
    expect(harness.ok({ type: 'queueDeviceCommand', deviceId: 'cam-1', command: command('c1'), nowMs: 15 }))
      .toMatchObject({ status: 'acknowledged', ack: { commandId: 'c1', outcome: 'applied', completedAtMs: 13, recordedAtMs: 14 } });
    // A repeated ack keeps the first.
    expect(harness.ok({ type: 'ackDeviceCommand', deviceId: 'cam-1', commandId: 'c1', outcome: 'failed', message: 'x', completedAtMs: 20, nowMs: 21 }).ack.outcome).toBe('applied');
  });

  it('drops expired commands when the device is next touched, and refuses a command already expired', () => {
    const { harness, connect } = setup();
    connect('cam-1');
    harness.ok({ type: 'queueDeviceCommand', deviceId: 'cam-1', command: command('short', 100), nowMs: 50 });
    harness.ok({ type: 'queueDeviceCommand', deviceId: 'cam-1', command: command('long', 1_000), nowMs: 60 });
    const reconnected = connect('cam-1', 2, 100);
    expect(reconnected.commands.map((pending) => pending.commandId)).toEqual(['long']);
    expect(harness.state.deviceCommandCount).toBe(1);
    expect(harness.fail({ type: 'queueDeviceCommand', deviceId: 'cam-1', command: command('late', 200), nowMs: 200 }).message)
      .toBe('device "cam-1" command "late" expired at 200 ms, before it was queued at 200 ms');
  });

  it('bounds pending commands per device and the remembered acks, and validates actions', () => {
    const { harness, connect } = setup();
    connect('cam-1');
    for (let index = 0; index < metadataLimits.commandsPerDeviceMax; index += 1) {
      harness.ok({ type: 'queueDeviceCommand', deviceId: 'cam-1', command: command(`c${index}`), nowMs: 11 });
    }
    expect(harness.fail({ type: 'queueDeviceCommand', deviceId: 'cam-1', command: command('one-more'), nowMs: 11 })).toEqual({
      code: 'RESOURCE_EXHAUSTED', message: 'pending commands of device "cam-1": 64 exist and 1 more would exceed the limit of 64',
    });
    for (let index = 0; index < 40; index += 1) {
      harness.ok({ type: 'ackDeviceCommand', deviceId: 'cam-1', commandId: `c${index}`, outcome: 'applied', message: '', completedAtMs: 1, nowMs: 12 });
    }
    expect(harness.state.devices.get('cam-1')?.acks).toHaveLength(metadataLimits.acksPerDeviceMax);
    const setConfig = (values: Record<string, string>, unsetKeys: string[] = []) => command('cfg', 60_000, { action: { kind: 'setConfig', values, unsetKeys } });
    expect(harness.fail({ type: 'queueDeviceCommand', deviceId: 'cam-1', command: setConfig({ 'bad key': '1' }), nowMs: 11 }).message)
      .toBe('device "cam-1" command "cfg": config key "bad key" must be 1-128 characters of [A-Za-z0-9._-]');
    expect(harness.fail({ type: 'queueDeviceCommand', deviceId: 'cam-1', command: setConfig({}, []), nowMs: 11 }).message)
      .toBe('device "cam-1" command "cfg": a set-config command needs at least one key to set or unset');
    expect(harness.fail({ type: 'queueDeviceCommand', deviceId: 'cam-1', command: setConfig({ a: '1' }, ['a']), nowMs: 11 }).message)
      .toBe('device "cam-1" command "cfg" names a config key twice (set and unset, or unset twice)');
  });

  it('evicts the disconnected device seen least recently when full, and never a connected one', () => {
    const { harness, connect } = setup();
    for (let index = 0; index < metadataLimits.devicesMax; index += 1) {
      const deviceId = `d${index}`;
      harness.state.devices.set(deviceId, { deviceId, brokerId: 0, brokerEpoch: 0, connectionEpoch: 1, connectedSinceMs: 0, lastSeenMs: 100 + (index % 5), commands: [], acks: [] });
    }
    connect('newcomer');
    expect(harness.state.devices.has('d0')).toBe(false);
    expect(harness.deltas.at(-2)).toEqual({ kind: 'deviceRemoved', version: harness.state.version, deviceId: 'd0' });
    for (const device of harness.state.devices.values()) Object.assign(device, { brokerId: 1, connectedSinceMs: 1 });
    expect(harness.fail({ type: 'connectDevice', brokerId: 1, brokerEpoch: harness.state.brokers.get(1)?.brokerEpoch ?? 0, deviceId: 'late', nowMs: 1 }).code).toBe('RESOURCE_EXHAUSTED');
  });

  it('travels in snapshots', () => {
    const { harness, connect } = setup();
    connect('cam-1');
    harness.ok({ type: 'queueDeviceCommand', deviceId: 'cam-1', command: command('c1', 60_000, { action: { kind: 'setConfig', values: { 'upload.rate': '5' }, unsetKeys: ['x'] } }), nowMs: 11 });
    const restored = decodeMetadataSnapshot(encodeMetadataSnapshot(harness.state));
    expect(restored.devices).toEqual(harness.state.devices);
    expect(restored.deviceCommandCount).toBe(1);
  });
});
