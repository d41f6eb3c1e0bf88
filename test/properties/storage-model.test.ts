// Random sequences of append / truncate / compact (advance log start, retention) / read / reopen
// against RaftLogStore and PartitionLog on both engines, checked step by step against the plain
// models in raft-log-model.ts and partition-log-model.ts. A reopen is a simulated power loss on
// memory (crash() after synced writes) and close + open on RocksDB.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RaftStorageError } from '../../src/raft/raft-storage-error.js';
import { TributaryError } from '../../src/errors/index.js';
import { openPartitionLog } from '../../src/storage/key-value-partition-log.js';
import { openRaftLogStore } from '../../src/storage/key-value-raft-log-store.js';
import type { PartitionLog } from '../../src/storage/partition-log.js';
import type { RaftLogStore } from '../../src/storage/raft-log-store.js';
import { type EngineHandle, type EngineKind, engineKinds } from '../support/storage-engines.js';
import { modelBatch, PartitionLogModel } from './partition-log-model.js';
import { modelEntry, type Outcome, RaftLogModel } from './raft-log-model.js';

/** Runs per engine: RocksDB opens a fresh database per run, so it gets fewer. */
const runsByEngine = { memory: 100, rocksdb: 30 } as const;
const commandsPerRunMax = 30;
const partition = { topic: 'model', partition: 0 };

/** Positions are drawn as fractions and mapped onto whatever range is valid at that step. */
const fraction = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

function pick(at: number, low: number, high: number): number {
  return low + Math.floor(at * (high - low + 1));
}

async function outcomeOf<T>(action: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { value: await action() };
  } catch (error) {
    if (error instanceof RaftStorageError && (error.kind === 'compacted' || error.kind === 'unavailable')) return { error: error.kind };
    throw error;
  }
}

async function withEngine(kind: EngineKind, body: (handle: EngineHandle, reopen: () => Promise<EngineHandle>) => Promise<void>): Promise<void> {
  let handle = await kind.open();
  try {
    await body(handle, async () => (handle = await handle.reopen()));
  } finally {
    await handle.dispose();
  }
}

const raftLogCommand = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('append' as const),
      at: fraction,
      terms: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 6 }),
    }),
  },
  fc.record({ kind: fc.constant('truncate' as const), at: fraction }),
  fc.record({ kind: fc.constant('compact' as const), at: fraction, matchTerm: fc.boolean(), term: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ kind: fc.constant('read' as const), low: fraction, high: fraction, maxBytes: fc.integer({ min: 1, max: 150 }) }),
  fc.record({ kind: fc.constant('reopen' as const) }),
);
type RaftLogCommand = typeof raftLogCommand extends fc.Arbitrary<infer T> ? T : never;

async function runRaftLogCommand(log: RaftLogStore, model: RaftLogModel, command: RaftLogCommand): Promise<void> {
  const last = model.lastIndex();
  switch (command.kind) {
    case 'append': {
      // From just below the compaction point (skipped entries) to one past the end (a gap).
      const firstIndex = pick(command.at, Math.max(1, model.firstIndex() - 2), last + 2);
      const entries = command.terms.map((term, position) => modelEntry(firstIndex + position, term));
      expect(await outcomeOf(() => log.append(entries))).toEqual(model.append(firstIndex, command.terms));
      return;
    }
    case 'truncate': {
      const fromIndex = pick(command.at, model.compactionIndex, last + 1);
      expect(await outcomeOf(() => log.truncateSuffix(fromIndex))).toEqual(model.truncateSuffix(fromIndex));
      return;
    }
    case 'compact': {
      const throughIndex = pick(command.at, model.compactionIndex + 1, last + 2);
      const term = command.matchTerm && throughIndex <= last ? model.termAt(throughIndex) : command.term;
      await log.compactPrefix(throughIndex, term);
      model.compactPrefix(throughIndex, term);
      return;
    }
    case 'read': {
      const low = pick(command.low, model.compactionIndex, last + 1);
      const high = pick(command.high, low, last + 2);
      expect(await outcomeOf(() => log.entries(low, high, command.maxBytes))).toEqual(model.entries(low, high, command.maxBytes));
      const index = pick(command.low, model.compactionIndex, last);
      if (index <= last) expect(await log.term(index)).toBe(model.termAt(index));
      return;
    }
    case 'reopen':
      throw new Error('reopen is handled by the run loop');
  }
}

const partitionLogCommand = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('append' as const),
      batches: fc.array(
        // Epochs mostly stay, sometimes skip ahead, so checkpoints have gaps to look between.
        fc.record({
          recordCount: fc.integer({ min: 1, max: 4 }),
          epochBump: fc.constantFrom(0, 0, 1, 3),
          timestampMs: fc.nat(1_000),
          payloadBytes: fc.nat(40),
          follower: fc.boolean(),
        }),
        { minLength: 1, maxLength: 3 },
      ),
    }),
  },
  fc.record({ kind: fc.constant('truncate' as const), at: fraction }),
  fc.record({ kind: fc.constant('advance' as const), at: fraction }),
  fc.record({
    kind: fc.constant('retention' as const),
    nowMs: fc.nat(2_000),
    retentionMs: fc.option(fc.nat(1_500), { nil: undefined }),
    bytesAt: fc.option(fraction, { nil: undefined }),
    limitAt: fc.option(fraction, { nil: undefined }),
  }),
  fc.record({ kind: fc.constant('read' as const), at: fraction, maxBytes: fc.integer({ min: 1, max: 300 }), epoch: fc.nat(12) }),
  fc.record({ kind: fc.constant('reopen' as const) }),
);
type PartitionLogCommand = typeof partitionLogCommand extends fc.Arbitrary<infer T> ? T : never;

async function rangeOutcome<T>(action: () => Promise<T>): Promise<T | 'outOfRange'> {
  try {
    return await action();
  } catch (error) {
    if (error instanceof TributaryError && error.code === 'OFFSET_OUT_OF_RANGE') return 'outOfRange';
    throw error;
  }
}

async function runPartitionLogCommand(log: PartitionLog, model: PartitionLogModel, command: PartitionLogCommand): Promise<void> {
  switch (command.kind) {
    case 'append': {
      // Appended together without waiting, so they share writes as concurrent producers would.
      const appends = command.batches.map((spec) => {
        const epoch = model.latestEpoch() + spec.epochBump;
        const expected = model.append(modelBatch(spec.recordCount, epoch, spec.timestampMs, spec.payloadBytes, model.end));
        const batch = modelBatch(spec.recordCount, epoch, spec.timestampMs, spec.payloadBytes, expected.baseOffset);
        const { baseOffset, lastOffset } = expected;
        return log.append(batch, spec.follower ? { baseOffset } : {}).then((appended) => expect(appended).toEqual({ baseOffset, lastOffset }));
      });
      await Promise.all(appends);
      return;
    }
    case 'truncate': {
      const offset = pick(command.at, Math.max(0, model.start - 1), model.end + 1);
      expect(await rangeOutcome(() => log.truncateTo(offset))).toEqual(model.truncateTo(offset));
      return;
    }
    case 'advance': {
      const offset = pick(command.at, 0, model.end + 3);
      await log.advanceLogStartOffset(offset);
      model.advanceLogStartOffset(offset);
      return;
    }
    case 'retention': {
      const request = {
        nowMs: command.nowMs,
        retentionMs: command.retentionMs,
        retentionBytes: command.bytesAt === undefined ? undefined : pick(command.bytesAt, 0, model.sizeBytes()),
        offsetLimit: command.limitAt === undefined ? undefined : pick(command.limitAt, model.start, model.end),
      };
      expect((await log.enforceRetention(request)).deletedBatches).toBe(model.enforceRetention(request));
      return;
    }
    case 'read': {
      const fromOffset = pick(command.at, Math.max(0, model.start - 1), model.end + 1);
      expect(await rangeOutcome(() => log.read(fromOffset, command.maxBytes))).toEqual(model.read(fromOffset, command.maxBytes));
      expect(log.endOffsetForEpoch(command.epoch)).toEqual(model.endOffsetForEpoch(command.epoch));
      return;
    }
    case 'reopen':
      throw new Error('reopen is handled by the run loop');
  }
}

describe.each(engineKinds)('storage model on $name', (kind) => {
  const numRuns = runsByEngine[kind.name];

  it('RaftLogStore agrees with the model', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(raftLogCommand, { maxLength: commandsPerRunMax, size: 'max' }), (commands) =>
        withEngine(kind, async (initial, reopen) => {
          let handle = initial;
          let log = await openRaftLogStore(handle.engine, handle.writer);
          const model = new RaftLogModel();
          for (const command of commands) {
            if (command.kind === 'reopen') {
              handle = await reopen();
              log = await openRaftLogStore(handle.engine, handle.writer);
            } else {
              await runRaftLogCommand(log, model, command);
            }
            expect([log.firstIndex(), log.lastIndex()]).toEqual([model.firstIndex(), model.lastIndex()]);
          }
        }),
      ),
      { numRuns },
    );
  });

  it('PartitionLog agrees with the model', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(partitionLogCommand, { maxLength: commandsPerRunMax, size: 'max' }), (commands) =>
        withEngine(kind, async (initial, reopen) => {
          let handle = initial;
          let log = await openPartitionLog(handle.engine, handle.writer, partition);
          const model = new PartitionLogModel();
          for (const command of commands) {
            if (command.kind === 'reopen') {
              handle = await reopen();
              log = await openPartitionLog(handle.engine, handle.writer, partition);
            } else {
              await runPartitionLogCommand(log, model, command);
            }
            expect([log.logStartOffset(), log.logEndOffset(), log.sizeBytes()]).toEqual([model.start, model.end, model.sizeBytes()]);
            expect(log.leaderEpochCheckpoints()).toEqual(model.epochs);
          }
        }),
      ),
      { numRuns },
    );
  });
});
