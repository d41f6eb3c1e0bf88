import { describe, expect, it } from 'vitest';
import { listControllers } from '../../../src/controller/index.js';
import { MetadataHarness } from './metadata-harness.js';

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
