import { listBrokers, type MetadataState, type TopicRecord } from '../../controller/index.js';
import { TributaryError } from '../../errors/index.js';
import type { MetadataController } from '../../actors/metadata-controller/metadata-controller.js';
import type { BrokerInfo } from '../generated/tributary/common/v1/common.js';
import {
  type GetClusterMetadataRequest, type GetClusterMetadataResponse, type GetPartitionLeaderRequest, type GetPartitionLeaderResponse,
  type GetTopicMetadataRequest, type GetTopicMetadataResponse, type ListTopicsRequest, type ListTopicsResponse, type MetadataFreshness,
  MetadataServiceService, ReadConsistency, type ReadOptions, type TopicMetadataResult,
} from '../generated/tributary/client/v1/metadata_service.js';
import type { RpcService } from '../server/rpc-server.js';
import { brokerToProto, commandErrorToProto, controllersToProto, partitionToProto, topicToProto } from './cluster-metadata-mapping.js';
import { serveUnary } from './serve-unary.js';

/** What the metadata service reads from its controller. */
export type MetadataReader = Pick<
  MetadataController, 'nodeId' | 'state' | 'linearizableState' | 'boundedStaleState' | 'raftStatus' | 'leaderHint' | 'addressOf'
>;

/** The staleness a bounded read accepts when the request leaves max_staleness_ms at 0: a few missed heartbeats. */
export const maxStalenessMsDefault = 2_000;
/** ListTopics page sizes: the default for 0, and the most one page holds. */
export const listTopicsPageSizeDefault = 100;
export const listTopicsPageSizeMax = 1_000;
/** Topics one GetTopicMetadata may name. */
export const topicMetadataNamesMax = 1_000;
/** The wire's "never confirmed" staleness (uint32 max). */
const stalenessUnknownMs = 4_294_967_295;

interface FreshState {
  state: MetadataState;
  freshness: MetadataFreshness;
}

/**
 * `tributary.client.v1.MetadataService` on a controller: reads of the applied metadata,
 * linearizable through ReadIndex (on any controller) or bounded-stale from the local state, and
 * every answer says which in its MetadataFreshness.
 */
export function createMetadataService(options: { controller: MetadataReader; clusterId: string }): RpcService {
  const { controller, clusterId } = options;
  return {
    definition: MetadataServiceService,
    implementation: {
      getClusterMetadata: serveUnary((request: GetClusterMetadataRequest) => getClusterMetadata(controller, clusterId, request)),
      getTopicMetadata: serveUnary((request: GetTopicMetadataRequest) => getTopicMetadata(controller, request)),
      listTopics: serveUnary((request: ListTopicsRequest) => listTopics(controller, request)),
      getPartitionLeader: serveUnary((request: GetPartitionLeaderRequest) => getPartitionLeader(controller, request)),
    },
  };
}

async function getClusterMetadata(controller: MetadataReader, clusterId: string, request: GetClusterMetadataRequest): Promise<GetClusterMetadataResponse> {
  const { state, freshness } = await readState(controller, request.read);
  return {
    clusterId,
    brokers: listBrokers(state, { includeFenced: true }).map(brokerToProto),
    controllers: controllersToProto(controller.raftStatus(), (nodeId) => controller.addressOf(nodeId)),
    controllerLeader: controller.leaderHint(),
    freshness,
  };
}

async function getTopicMetadata(controller: MetadataReader, request: GetTopicMetadataRequest): Promise<GetTopicMetadataResponse> {
  const names = request.topics;
  if (names.length === 0) throw new TributaryError('INVALID_REQUEST', 'GetTopicMetadata needs at least one topic name; use ListTopics to enumerate topics');
  if (names.length > topicMetadataNamesMax) throw new TributaryError('INVALID_REQUEST', `GetTopicMetadata names ${names.length} topics; the limit is ${topicMetadataNamesMax}`);
  const repeated = names.find((name, position) => names.indexOf(name) !== position);
  if (repeated !== undefined) throw new TributaryError('INVALID_REQUEST', `GetTopicMetadata names topic "${repeated}" twice`);
  const { state, freshness } = await readState(controller, request.read);
  const topics: TopicMetadataResult[] = names.map((name) => {
    const topic = state.topics.get(name);
    if (topic === undefined) return { name, error: commandErrorToProto({ code: 'TOPIC_NOT_FOUND', message: `topic "${name}" does not exist` }), topic: undefined };
    return { name, error: undefined, topic: topicToProto(topic, { includePartitions: true }) };
  });
  return { topics, brokers: referencedBrokers(state, names), freshness };
}

/** The brokers the named topics' partitions name as replicas or leaders, by node id. */
function referencedBrokers(state: MetadataState, names: readonly string[]): BrokerInfo[] {
  const ids = new Set<number>();
  for (const name of names) {
    for (const partition of state.topics.get(name)?.partitions ?? []) for (const id of partition.replicas) ids.add(id);
  }
  return listBrokers(state, { includeFenced: true }).filter((broker) => ids.has(broker.brokerId)).map(brokerToProto);
}

async function listTopics(controller: MetadataReader, request: ListTopicsRequest): Promise<ListTopicsResponse> {
  const pageSize = Math.min(request.pageSize === 0 ? listTopicsPageSizeDefault : request.pageSize, listTopicsPageSizeMax);
  const after = decodePageToken(request.pageToken);
  const { state, freshness } = await readState(controller, request.read);
  const names = [...state.topics.keys()].sort().filter((name) => name.startsWith(request.namePrefix) && (after === undefined || name > after));
  const page = names.slice(0, pageSize).map((name) => state.topics.get(name) as TopicRecord);
  const last = page.at(-1);
  return {
    topics: page.map((topic) => topicToProto(topic, { includePartitions: request.includePartitions })),
    nextPageToken: names.length > pageSize && last !== undefined ? encodePageToken(last.name) : '',
    freshness,
  };
}

/** Pages resume after the last name returned; the token is that name, opaque to clients. */
function encodePageToken(lastName: string): string {
  return Buffer.from(`after:${lastName}`, 'utf8').toString('base64url');
}

function decodePageToken(token: string): string | undefined {
  if (token === '') return undefined;
  const decoded = Buffer.from(token, 'base64url').toString('utf8');
  if (!decoded.startsWith('after:')) throw new TributaryError('INVALID_REQUEST', `page token "${token}" is not one this server issued; start again with an empty token`);
  return decoded.slice('after:'.length);
}

async function getPartitionLeader(controller: MetadataReader, request: GetPartitionLeaderRequest): Promise<GetPartitionLeaderResponse> {
  const wanted = request.topicPartition;
  if (wanted === undefined) throw new TributaryError('INVALID_REQUEST', 'GetPartitionLeader needs topic_partition');
  let read = await readState(controller, request.read);
  // A hint newer than what this controller applied: the epoch is committed (a broker learned it), so a linearizable read has it.
  if (partitionOf(read.state, wanted.topic, wanted.partition).leaderEpoch < request.minLeaderEpoch && !read.freshness.linearizable) {
    read = await linearizableRead(controller);
  }
  const partition = partitionOf(read.state, wanted.topic, wanted.partition);
  if (partition.leaderEpoch < request.minLeaderEpoch) {
    throw new TributaryError('NOT_AVAILABLE', `${wanted.topic}/${wanted.partition} is at leader epoch ${partition.leaderEpoch}, below the requested ${request.minLeaderEpoch}`);
  }
  const address = partition.leader === 0 ? '' : (read.state.brokers.get(partition.leader)?.address ?? '');
  return { leader: { nodeId: partition.leader, address, epoch: partition.leaderEpoch }, freshness: read.freshness };
}

function partitionOf(state: MetadataState, topic: string, partition: number) {
  const record = state.topics.get(topic);
  if (record === undefined) throw new TributaryError('TOPIC_NOT_FOUND', `topic "${topic}" does not exist`);
  const found = record.partitions[partition];
  if (found === undefined) {
    throw new TributaryError('PARTITION_NOT_FOUND', `topic "${topic}" has ${record.partitions.length} partitions; partition ${partition} does not exist`);
  }
  return partitionToProto(topic, found);
}

/**
 * The state a read may answer from. LINEARIZABLE goes through ReadIndex; LOCAL takes whatever is
 * applied; BOUNDED_STALENESS (and UNSPECIFIED) takes the local state when it is fresh enough and
 * otherwise reads linearizably, which always qualifies, rather than sending the client elsewhere.
 * A floor (min_metadata_version) this controller has not applied is waited for by a linearizable
 * read: every version a client has seen was committed, so the read reaches it.
 */
async function readState(controller: MetadataReader, read: ReadOptions | undefined): Promise<FreshState> {
  const consistency = read?.consistency ?? ReadConsistency.UNSPECIFIED;
  let fresh: FreshState;
  if (consistency === ReadConsistency.LINEARIZABLE) fresh = await linearizableRead(controller);
  else if (consistency === ReadConsistency.LOCAL) fresh = await staleRead(controller, Number.POSITIVE_INFINITY);
  else if (consistency === ReadConsistency.BOUNDED_STALENESS || consistency === ReadConsistency.UNSPECIFIED) {
    fresh = await staleRead(controller, read?.maxStalenessMs || maxStalenessMsDefault);
  } else throw new TributaryError('INVALID_REQUEST', `read.consistency ${String(consistency)} is not a known ReadConsistency`);
  const floor = read?.minMetadataVersion ?? 0;
  if (fresh.state.version >= floor) return fresh;
  if (!fresh.freshness.linearizable) fresh = await linearizableRead(controller);
  if (fresh.state.version < floor) {
    throw new TributaryError('INVALID_REQUEST', `read.min_metadata_version ${floor} is ahead of every committed metadata version (${fresh.state.version})`);
  }
  return fresh;
}

async function linearizableRead(controller: MetadataReader): Promise<FreshState> {
  const state = await controller.linearizableState();
  return { state, freshness: freshnessOf(controller, state, 0, true) };
}

async function staleRead(controller: MetadataReader, maxStalenessMs: number): Promise<FreshState> {
  const { state, stalenessMs, linearizable } = await controller.boundedStaleState(maxStalenessMs);
  return { state, freshness: freshnessOf(controller, state, stalenessMs, linearizable) };
}

function freshnessOf(controller: MetadataReader, state: MetadataState, stalenessMs: number, linearizable: boolean): MetadataFreshness {
  return {
    metadataVersion: state.version,
    responderId: controller.nodeId,
    servedByLeader: controller.raftStatus().role === 'leader',
    linearizable,
    stalenessMs: Number.isFinite(stalenessMs) ? Math.min(Math.ceil(stalenessMs), stalenessUnknownMs) : stalenessUnknownMs,
  };
}
