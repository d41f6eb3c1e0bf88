import type { MetadataController } from '../../actors/metadata-controller/metadata-controller.js';
import { type CommittedOffsetLookup, fetchCommittedOffsets } from '../../controller/index.js';
import { TributaryError } from '../../errors/index.js';
import type { CommittedOffset, FetchOffsetsRequest, FetchOffsetsResponse } from '../generated/tributary/controller/v1/group_coordinator_service.js';
import { errorDetailOf } from './group-member-calls.js';

/** Partitions in one FetchOffsets page when the request leaves page_size 0, and the most it may ask for. */
export const fetchOffsetsPageSizeDefault = 1_000;
export const fetchOffsetsPageSizeMax = 10_000;

/**
 * FetchOffsets: a linearizable read (ReadIndex), so any controller answers it with every commit
 * acknowledged before the call. Named partitions come back in the order asked; an empty list pages
 * through everything the group committed, by topic then partition, resuming after the page token.
 */
export async function fetchOffsets(controller: Pick<MetadataController, 'linearizableState'>, request: FetchOffsetsRequest): Promise<FetchOffsetsResponse> {
  const pageSize = request.pageSize === 0 ? fetchOffsetsPageSizeDefault : request.pageSize;
  if (pageSize > fetchOffsetsPageSizeMax) throw new TributaryError('INVALID_REQUEST', `FetchOffsets page_size ${pageSize} is above ${fetchOffsetsPageSizeMax}`);
  if (request.partitions.length > fetchOffsetsPageSizeMax) {
    throw new TributaryError('INVALID_REQUEST', `FetchOffsets names ${request.partitions.length} partitions; at most ${fetchOffsetsPageSizeMax} are allowed per call`);
  }
  if (request.partitions.length > 0 && request.pageToken !== '') {
    throw new TributaryError('INVALID_REQUEST', `FetchOffsets page_token "${request.pageToken}" is only for listing every partition; send it with an empty partition list`);
  }
  const after = request.pageToken === '' ? undefined : parsePageToken(request.pageToken);
  const state = await controller.linearizableState();
  if (request.partitions.length > 0) {
    return { offsets: fetchCommittedOffsets(state, request.groupId, request.partitions).map(toCommittedOffset), nextPageToken: '' };
  }
  const all = fetchCommittedOffsets(state, request.groupId, []);
  const start = after === undefined ? 0 : all.findIndex((lookup) => comparePartitions(lookup, after) > 0);
  const page = start < 0 ? [] : all.slice(start, start + pageSize);
  const last = page.at(-1);
  const more = start >= 0 && start + pageSize < all.length && last !== undefined;
  return { offsets: page.map(toCommittedOffset), nextPageToken: more ? `${last.topic}:${last.partition}` : '' };
}

interface PartitionKey {
  topic: string;
  partition: number;
}

function parsePageToken(token: string): PartitionKey {
  const colon = token.lastIndexOf(':');
  const partition = Number(token.slice(colon + 1));
  if (colon <= 0 || !Number.isSafeInteger(partition) || partition < 0) {
    throw new TributaryError('INVALID_REQUEST', `FetchOffsets page_token "${token}" is not one this server issued; start again with an empty token`);
  }
  return { topic: token.slice(0, colon), partition };
}

/** The order fetchCommittedOffsets lists a group's offsets in: topic name, then partition. */
function comparePartitions(left: PartitionKey, right: PartitionKey): number {
  if (left.topic !== right.topic) return left.topic < right.topic ? -1 : 1;
  return left.partition - right.partition;
}

function toCommittedOffset(lookup: CommittedOffsetLookup): CommittedOffset {
  const { committed } = lookup;
  return {
    topicPartition: { topic: lookup.topic, partition: lookup.partition },
    error: errorDetailOf(lookup.error),
    offset: committed?.offset,
    leaderEpoch: committed?.leaderEpoch ?? 0,
    metadata: committed?.metadata ?? '',
    commitTimeMs: committed?.commitTimeMs ?? 0,
  };
}
