import type { MetadataController } from '../../actors/metadata-controller/metadata-controller.js';
import { TributaryError } from '../../errors/index.js';

/**
 * Writes go to the controller leader. Checking before proposing gives a follower's NOT_LEADER
 * its hint at once, and keeps a follower from reading its lagging state to validate a write.
 */
export function requireLeader(controller: Pick<MetadataController, 'nodeId' | 'leaderHint'>, operation: string): void {
  const hint = controller.leaderHint();
  if (hint.nodeId === controller.nodeId) return;
  const where = hint.nodeId === 0 ? 'no leader is known (an election is in progress)' : `controller ${hint.nodeId} at ${hint.address || 'an unknown address'} leads`;
  throw new TributaryError('NOT_LEADER', `${operation} must go to the controller leader; controller ${controller.nodeId} is not it, ${where}`, { leaderHint: hint });
}
