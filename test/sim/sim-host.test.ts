import { describe, expect, it } from 'vitest';
import type { Message } from '../../src/raft/raft-types.js';
import { encodeKvProposal } from './kv-state-machine.js';
import type { Observation } from './observation.js';
import { Prng } from './prng.js';
import { SimHost, type HostListener, type HostSettings } from './sim-host.js';

const settings: HostSettings = {
  core: { electionTimeoutTicks: 5, heartbeatTimeoutTicks: 1 },
  snapshotThresholdEntries: 1000,
  snapshotKeepEntries: 0,
  skipFsync: false,
  metadata: { enabled: false, bug: undefined },
};

class Recorder implements HostListener {
  readonly observations: Observation[] = [];
  readonly sent: Message[] = [];
  readonly appliedIndices: number[] = [];
  observe(observation: Observation): void {
    this.observations.push(observation);
  }
  send(message: Message): void {
    this.sent.push(message);
  }
  applied(_nodeId: number, entry: { index: number }): void {
    this.appliedIndices.push(entry.index);
  }
  snapshotRestored(): void {}
  readReady(): void {}
  confChangeApplied(): void {}
}

/** A one-node cluster that has elected itself and committed three writes. */
function singleNodeWithWrites(hostSettings: HostSettings): { host: SimHost; recorder: Recorder } {
  const recorder = new Recorder();
  const host = new SimHost(1, { voters: [1], learners: [] }, hostSettings, new Prng(1), recorder, () => 0);
  host.start();
  for (let tick = 0; tick < 20 && host.status().role !== 'leader'; tick++) host.tick();
  expect(host.status().role).toBe('leader');
  for (const value of ['a', 'b', 'c']) host.propose(encodeKvProposal({ clientId: 1, operationId: 0, input: { kind: 'append', key: 'x', value } }));
  expect(host.read('x')).toBe('abc');
  return { host, recorder };
}

const noFaults = { unsyncedSurvivalRate: 0, tornWriteRate: 0 };

describe('SimHost', () => {
  it('keeps what it synced across a crash, and rebuilds its state machine by applying it again', () => {
    const { host, recorder } = singleNodeWithWrites(settings);
    const lastIndex = host.status().lastIndex;
    host.crash(new Prng(2), noFaults);
    expect(host.running).toBe(false);
    host.start();
    expect(host.status().lastIndex).toBe(lastIndex);
    expect(host.read('x')).toBe('abc');
    const restart = recorder.observations.find((observation) => observation.kind === 'restart' && observation.commit > 0);
    expect(restart).toMatchObject({ commit: lastIndex, appliedIndex: 0 });
  });

  it('with skipFsync, loses entries it had acknowledged when it crashes', () => {
    const { host } = singleNodeWithWrites({ ...settings, skipFsync: true });
    expect(host.disk.unsyncedCount).toBeGreaterThan(0);
    host.crash(new Prng(2), noFaults);
    host.start();
    expect(host.status().lastIndex).toBe(0);
    expect(host.read('x')).toBeUndefined();
  });

  it('snapshots and compacts past the threshold, checkpointing its disk, and restarts from the snapshot', () => {
    const { host, recorder } = singleNodeWithWrites({ ...settings, snapshotThresholdEntries: 2 });
    expect(host.logView().snapshotIndex).toBeGreaterThan(0);
    expect(host.disk.durableCount).toBe(1);
    host.crash(new Prng(2), noFaults);
    host.start();
    expect(host.read('x')).toBe('abc');
    expect(recorder.observations.at(-1)).toMatchObject({ kind: 'restart' });
  });
});
