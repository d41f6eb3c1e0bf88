import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  applyMetadataCommand, checkMetadataInvariants, createMetadataState, decodeMetadataCommand, decodeMetadataSnapshot, dueExpiries, encodeMetadataCommand,
  encodeMetadataSnapshot, metadataImage, metadataWatermarks, type DueExpiries, type MetadataCommand, type MetadataCommandResult, type MetadataState,
} from '../../../src/controller/index.js';
import { applyDeltas, comparableView, emptyDeltaView } from './delta-view.js';
import { actionsArbitrary, commandFor, type Action } from './random-metadata-commands.js';

const startMs = 1_000_000;

function expectSameBytes(actual: Uint8Array, expected: Uint8Array): void {
  expect(Buffer.compare(actual, expected)).toBe(0);
}

/** Applies generated commands from index 1, checking each step; returns the commands as applied. */
function run(state: MetadataState, actions: readonly Action[], onApplied?: (command: MetadataCommand, ok: boolean) => void): MetadataCommand[] {
  const commands: MetadataCommand[] = [];
  let nowMs = startMs;
  actions.forEach((action, position) => {
    nowMs += action[3];
    const command = commandFor(state, action, nowMs);
    // Every command goes through the codec, as it does through the Raft log.
    const decoded = decodeMetadataCommand(encodeMetadataCommand(command));
    expect(decoded).toEqual(command);
    const before = encodeMetadataSnapshot(state);
    const watermarks = metadataWatermarks(state);
    const due = dueExpiries(state, nowMs);
    const { result } = applyMetadataCommand(state, decoded, position + 1);
    expectDueMatches(due, decoded, result);
    expect(checkMetadataInvariants(state, watermarks)).toEqual([]);
    if (!result.ok) expectSameBytes(encodeMetadataSnapshot(state), before);
    onApplied?.(command, result.ok);
    commands.push(command);
  });
  return commands;
}

/** dueExpiries must predict exactly whether the leader's tick commands change anything. */
function expectDueMatches(due: DueExpiries, command: MetadataCommand, result: MetadataCommandResult<unknown>): void {
  if (!result.ok) return;
  if (command.type === 'fenceExpiredBrokers') expect((result.value as { fencedBrokerIds: number[] }).fencedBrokerIds.length > 0).toBe(due.brokers);
  if (command.type === 'expireGroupMembers') expect((result.value as { removed: unknown[] }).removed.length > 0).toBe(due.groupMembers);
}

function replay(state: MetadataState, commands: readonly MetadataCommand[], firstIndex: number): void {
  commands.forEach((command, position) => applyMetadataCommand(state, command, firstIndex + position));
}

describe('metadata state machine under random commands', () => {
  it('keeps every invariant, a rejected command changes nothing, and dueExpiries predicts the ticks', () => {
    let accepted = 0;
    let rejected = 0;
    fc.assert(fc.property(actionsArbitrary, (actions) => {
      run(createMetadataState(), actions, (_command, ok) => (ok ? (accepted += 1) : (rejected += 1)));
    }), { numRuns: 150 });
    // The generator must exercise both paths, or the property says little.
    expect(accepted).toBeGreaterThan(1_000);
    expect(rejected).toBeGreaterThan(1_000);
  });

  it('gives byte-identical snapshots on a replica that restored a snapshot midway', () => {
    fc.assert(fc.property(actionsArbitrary, fc.nat(), (actions, cutSeed) => {
      const original = createMetadataState();
      const commands = run(original, actions);
      const cut = cutSeed % (commands.length + 1);
      const restored = createMetadataState();
      replay(restored, commands.slice(0, cut), 1);
      const fromSnapshot = decodeMetadataSnapshot(encodeMetadataSnapshot(restored));
      replay(fromSnapshot, commands.slice(cut), cut + 1);
      expectSameBytes(encodeMetadataSnapshot(fromSnapshot), encodeMetadataSnapshot(original));
    }), { numRuns: 100 });
  });

  it('round-trips snapshots exactly', () => {
    fc.assert(fc.property(actionsArbitrary, (actions) => {
      const state = createMetadataState();
      run(state, actions);
      const bytes = encodeMetadataSnapshot(state);
      const decoded = decodeMetadataSnapshot(bytes);
      expect(decoded).toEqual(state);
      expectSameBytes(encodeMetadataSnapshot(decoded), bytes);
    }), { numRuns: 100 });
  });

  it('emits deltas that rebuild the same view as the image of the final state', () => {
    fc.assert(fc.property(actionsArbitrary, (actions) => {
      const state = createMetadataState();
      const followed = emptyDeltaView();
      let nowMs = startMs;
      actions.forEach((action, position) => {
        nowMs += action[3];
        const { deltas } = applyMetadataCommand(state, commandFor(state, action, nowMs), position + 1);
        applyDeltas(followed, deltas);
      });
      const fromImage = emptyDeltaView();
      applyDeltas(fromImage, metadataImage(state));
      expect(comparableView(followed)).toEqual(comparableView(fromImage));
    }), { numRuns: 100 });
  });
});
