import { describe, expect, it } from 'vitest';
import { decodeMetadataSnapshot, encodeMetadataSnapshot, metadataLimits } from '../../../src/controller/index.js';
import { MetadataHarness } from './metadata-harness.js';

describe('producer id blocks', () => {
  it('hand each broker its own block, never reusing an id, across registrations and snapshots', () => {
    const harness = new MetadataHarness();
    const firstEpoch = harness.register(1);
    const secondEpoch = harness.register(2);
    const size = metadataLimits.producerIdBlockSize;
    expect(harness.ok({ type: 'allocateProducerIds', brokerId: 1, brokerEpoch: firstEpoch })).toEqual({ firstProducerId: 1, count: size });
    expect(harness.ok({ type: 'allocateProducerIds', brokerId: 2, brokerEpoch: secondEpoch })).toEqual({ firstProducerId: 1 + size, count: size });
    // A restarted broker gets a new epoch and a new block; the old block is never handed out again.
    const restartedEpoch = harness.register(1, '', 'incarnation-restarted');
    expect(harness.ok({ type: 'allocateProducerIds', brokerId: 1, brokerEpoch: restartedEpoch })).toEqual({ firstProducerId: 1 + 2 * size, count: size });
    const restored = decodeMetadataSnapshot(encodeMetadataSnapshot(harness.state));
    expect(restored.nextProducerId).toBe(1 + 3 * size);
  });

  it('refuse a replaced or unknown broker, changing nothing', () => {
    const harness = new MetadataHarness();
    const oldEpoch = harness.register(1);
    harness.register(1, '', 'incarnation-new');
    expect(harness.fail({ type: 'allocateProducerIds', brokerId: 1, brokerEpoch: oldEpoch })).toMatchObject({ code: 'FENCED' });
    expect(harness.fail({ type: 'allocateProducerIds', brokerId: 7, brokerEpoch: 1 }).message).toContain('broker 7 is not registered');
    expect(harness.state.nextProducerId).toBe(1);
  });
});
