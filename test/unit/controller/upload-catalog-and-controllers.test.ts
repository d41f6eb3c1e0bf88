import { describe, expect, it } from 'vitest';
import { getUploadSession, listControllers, type UpsertUploadSessionCommand } from '../../../src/controller/index.js';
import { MetadataHarness } from './metadata-harness.js';

const digest = 'ab'.repeat(32);

function upsert(overrides: Partial<UpsertUploadSessionCommand> = {}): UpsertUploadSessionCommand {
  return {
    type: 'upsertUploadSession', deviceId: 'dev-1', sessionId: 's-1', state: 'open', topic: 'uploads', partition: 1, committedLength: 0, digest: '',
    nowMs: 5, ...overrides,
  };
}

function setup(): MetadataHarness {
  const harness = new MetadataHarness();
  harness.liveBrokers(3);
  harness.createTopic('uploads');
  return harness;
}

describe('upload session catalog', () => {
  it('records progress forward to completion and then closes the session', () => {
    const harness = setup();
    harness.ok(upsert());
    harness.ok(upsert({ state: 'receiving', committedLength: 4096 }));
    harness.ok(upsert({ state: 'complete', committedLength: 8192, digest }));
    expect(getUploadSession(harness.state, 'dev-1', 's-1')).toMatchObject({ state: 'complete', committedLength: 8192, digest });
    expect(harness.deltas.at(-1)).toMatchObject({ kind: 'uploadSessionChanged', session: { state: 'complete' } });
    // A retry of the completing upsert is accepted; any other change is not.
    harness.ok(upsert({ state: 'complete', committedLength: 8192, digest }));
    expect(harness.fail(upsert({ state: 'failed', committedLength: 8192, digest }))).toEqual({
      code: 'SESSION_CLOSED', message: 'session "dev-1/s-1" is complete and accepts no more changes',
    });
  });

  it('never lets the committed length shrink, the state go back, or the session move', () => {
    const harness = setup();
    harness.ok(upsert({ state: 'receiving', committedLength: 100 }));
    expect(harness.fail(upsert({ state: 'receiving', committedLength: 99 }))).toEqual({
      code: 'OFFSET_MISMATCH', message: 'session "dev-1/s-1" has 100 committed bytes; 99 would go backwards',
    });
    expect(harness.fail(upsert({ state: 'open', committedLength: 100 })).message).toBe('session "dev-1/s-1" is receiving; it cannot go back to open');
    expect(harness.fail(upsert({ state: 'receiving', committedLength: 100, partition: 2 })).message)
      .toBe('session "dev-1/s-1" lives on uploads/1; it cannot move to uploads/2');
  });

  it('validates new sessions against the topics and the fields', () => {
    const harness = setup();
    expect(harness.fail(upsert({ partition: 3 })).code).toBe('PARTITION_NOT_FOUND');
    expect(harness.fail(upsert({ state: 'complete', digest: '' })).message).toBe('session "dev-1/s-1": a complete session needs its SHA-256 digest');
    expect(harness.fail(upsert({ digest: 'XYZ' })).message).toBe('session "dev-1/s-1": digest "XYZ" must be at most 128 lowercase hex digits');
  });
});

describe('controller registrations', () => {
  it('mirrors the Raft membership idempotently, in node id order', () => {
    const harness = new MetadataHarness();
    harness.ok({ type: 'registerController', nodeId: 3, address: 'c3:7000', role: 'learner' });
    harness.ok({ type: 'registerController', nodeId: 1, address: 'c1:7000', role: 'voter' });
    const deltasBefore = harness.deltas.length;
    harness.ok({ type: 'registerController', nodeId: 1, address: 'c1:7000', role: 'voter' });
    expect(harness.deltas.length).toBe(deltasBefore);
    harness.ok({ type: 'registerController', nodeId: 3, address: 'c3:7000', role: 'voter' });
    expect(listControllers(harness.state).map((controller) => [controller.nodeId, controller.role])).toEqual([[1, 'voter'], [3, 'voter']]);
    expect(harness.deltas.at(-1)).toMatchObject({ kind: 'controllersChanged', controllers: [{ nodeId: 1 }, { nodeId: 3 }] });
    harness.ok({ type: 'unregisterController', nodeId: 3 });
    harness.ok({ type: 'unregisterController', nodeId: 3 });
    expect(listControllers(harness.state)).toEqual([{ nodeId: 1, address: 'c1:7000', role: 'voter' }]);
    expect(harness.fail({ type: 'registerController', nodeId: 0, address: 'x:1', role: 'voter' }).message).toBe('controller id 0 must be an integer of at least 1');
  });
});
