import { TributaryError } from '../errors/index.js';
import { rejectCommand, requireRoom, type ApplyContext } from './apply-context.js';
import type { CommandError } from './apply-partition-command.js';
import { requirePartition } from './apply-partition-command.js';
import { requireTopic } from './apply-topic-command.js';
import type { CommitOffsetsCommand, OffsetCommit } from './metadata-command.js';
import { groupChangedDelta } from './metadata-delta.js';
import { metadataLimits } from './metadata-limits.js';
import { offsetKey, type GroupRecord, type MetadataState } from './metadata-state.js';
import { newGroupRecord, requireGroup, requireMember } from './group-rebalance.js';
import { validateName } from './validate-topic-config.js';

export interface OffsetCommitResult {
  topic: string;
  partition: number;
  /** null when the offset was committed. */
  error: CommandError | null;
}

export interface CommitOffsetsOutput {
  results: OffsetCommitResult[];
}

const utf8 = new TextEncoder();

/**
 * Records consumed positions, fenced by member and generation: a member of an older generation
 * can never commit (ILLEGAL_GENERATION), nor can anyone while the leader is assigning
 * (REBALANCE_IN_PROGRESS). Within the current generation an offset may move backwards: like
 * Kafka, an explicit commit is the consumer's decision (a replay or a reset), and fencing is what
 * keeps zombies out. A standalone consumer (generation 0, no member id) commits only while the
 * group has no members. Each partition succeeds or fails on its own.
 */
export function commitOffsets(context: ApplyContext, command: CommitOffsetsCommand): CommitOffsetsOutput {
  const { state } = context;
  validateName(command.groupId, 'group');
  if (command.offsets.length === 0) rejectCommand('INVALID_REQUEST', `group "${command.groupId}": a commit must name at least one partition`);
  requireRoom(0, command.offsets.length, metadataLimits.offsetsPerCommitMax, 'offsets in one commit');
  const existing = checkCommitter(state, command);
  const keys: CommitKeys = { seen: new Set(), added: new Set() };
  const accepted: OffsetCommit[] = [];
  const results = command.offsets.map((commit): OffsetCommitResult => {
    const result: OffsetCommitResult = { topic: commit.topic, partition: commit.partition, error: null };
    try {
      checkOffset(state, existing, commit, keys);
      accepted.push(commit);
    } catch (error) {
      if (!(error instanceof TributaryError)) throw error;
      result.error = { code: error.code, message: error.message };
    }
    return result;
  });
  if (accepted.length === 0) return { results };
  const group = existing ?? createEmptyGroup(context, command.groupId);
  for (const commit of accepted) {
    const { topic, partition, offset, leaderEpoch, metadata } = commit;
    group.offsets.set(offsetKey(topic, partition), { topic, partition, offset, leaderEpoch, metadata, commitTimeMs: command.nowMs });
  }
  return { results };
}

function checkCommitter(state: MetadataState, command: CommitOffsetsCommand): GroupRecord | undefined {
  const group = state.groups.get(command.groupId);
  if (command.generation === 0 && command.memberId === '') {
    if (group !== undefined && group.members.size > 0) {
      rejectCommand('ILLEGAL_GENERATION',
        `group "${group.groupId}" has ${group.members.size} members at generation ${group.generation}; a standalone commit (generation 0) is accepted only while it has none`);
    }
    if (group === undefined) requireRoom(state.groups.size, 1, metadataLimits.groupsMax, 'consumer groups');
    return group;
  }
  const known = requireGroup(group, command.groupId);
  requireMember(known, command.memberId, command.generation);
  if (known.state === 'completingRebalance') {
    rejectCommand('REBALANCE_IN_PROGRESS', `group "${known.groupId}" generation ${known.generation} is waiting for its assignment; commit after SyncGroup`);
  }
  return known;
}

/** Partitions seen so far in one commit, and those among them the group has no offset for yet. */
interface CommitKeys {
  seen: Set<string>;
  added: Set<string>;
}

function checkOffset(state: MetadataState, group: GroupRecord | undefined, commit: OffsetCommit, keys: CommitKeys): void {
  requirePartition(requireTopic(state, commit.topic, ''), commit.partition);
  for (const [what, value] of [['offset', commit.offset], ['leader epoch', commit.leaderEpoch]] as const) {
    if (!Number.isSafeInteger(value) || value < 0) rejectCommand('INVALID_REQUEST', `${commit.topic}/${commit.partition}: ${what} ${value} must be a non-negative integer`);
  }
  const metadataBytes = utf8.encode(commit.metadata).length;
  if (metadataBytes > metadataLimits.offsetMetadataBytesMax) {
    rejectCommand('INVALID_REQUEST', `${commit.topic}/${commit.partition}: offset metadata is ${metadataBytes} bytes; at most ${metadataLimits.offsetMetadataBytesMax} are allowed`);
  }
  const key = offsetKey(commit.topic, commit.partition);
  if (keys.seen.has(key)) rejectCommand('INVALID_REQUEST', `${commit.topic}/${commit.partition} is named twice in one commit`);
  if (group?.offsets.has(key) !== true) {
    requireRoom((group?.offsets.size ?? 0) + keys.added.size, 1, metadataLimits.committedOffsetsPerGroupMax, 'committed partitions of the group');
    keys.added.add(key);
  }
  keys.seen.add(key);
}

function createEmptyGroup(context: ApplyContext, groupId: string): GroupRecord {
  const group = newGroupRecord(groupId, '');
  context.state.groups.set(groupId, group);
  context.deltas.push(groupChangedDelta(context.index, group));
  return group;
}
