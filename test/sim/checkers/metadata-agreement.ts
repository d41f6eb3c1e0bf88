import type { Observation } from '../observation.js';
import type { Checker } from './checker.js';

/**
 * State-machine safety at the metadata level: nodes that applied the same entries hold
 * byte-identical metadata snapshots. Compared by digest at the indices every node samples
 * (MetadataReplica), and at every snapshot taken or restored, so a replica that restored from a
 * snapshot is compared with ones that applied every command.
 */
export function createMetadataAgreement(): Checker {
  const digests = new Map<number, { digest: number; nodeId: number }>();
  return {
    name: 'metadataAgreement',
    observe(observation: Observation): string | undefined {
      if (observation.kind !== 'metadataDigest') return undefined;
      const { index, digest, nodeId } = observation;
      const first = digests.get(index);
      if (first === undefined) {
        digests.set(index, { digest, nodeId });
        return undefined;
      }
      if (first.digest === digest) return undefined;
      return `metadata at entry ${index} differs: node ${first.nodeId} has snapshot digest ${first.digest}, node ${nodeId} has ${digest}`;
    },
  };
}
