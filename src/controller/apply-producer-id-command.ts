import { rejectCommand, type ApplyContext } from './apply-context.js';
import { requireCurrentBroker } from './apply-broker-command.js';
import type { AllocateProducerIdsCommand } from './metadata-command.js';
import { metadataLimits } from './metadata-limits.js';

/** A block of producer ids the broker alone hands out: firstProducerId .. firstProducerId + count - 1. */
export interface AllocateProducerIdsOutput {
  firstProducerId: number;
  count: number;
}

/**
 * Hands the next `producerIdBlockSize` ids to a current broker. Ids are never reused, not even
 * after the broker that held a block crashes: a producer id is what lets a partition leader tell
 * one producer's retries from another's batches, so uniqueness matters more than the ids wasted.
 */
export function allocateProducerIds(context: ApplyContext, command: AllocateProducerIdsCommand): AllocateProducerIdsOutput {
  const { state } = context;
  // A fenced broker may still ask: uniqueness comes from the quorum, not from the broker's standing.
  requireCurrentBroker(state, command.brokerId, command.brokerEpoch);
  const count = metadataLimits.producerIdBlockSize;
  const firstProducerId = state.nextProducerId;
  if (!Number.isSafeInteger(firstProducerId + count)) rejectCommand('RESOURCE_EXHAUSTED', `producer ids are exhausted at ${firstProducerId}`);
  state.nextProducerId = firstProducerId + count;
  return { firstProducerId, count };
}
