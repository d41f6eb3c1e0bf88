import { TributaryError } from '../errors/index.js';
import type { BrokerInfo, ConsumerClient, ListedOffsets, TopicInfo } from '../rpc/clients/index.js';
import { type PartitionRoute, routesOf } from './partition-routes.js';

/** A partition's offsets as its leader reports them, or why the leader could not say. */
export interface PartitionOffsets {
  topic: string;
  partition: number;
  /** The leader asked; 0 when the partition has none. */
  leaderId: number;
  /** undefined when `error` is set: a number the leader did not give is never made up. */
  offsets: { logStartOffset: number; highWatermark: number; logEndOffset: number } | undefined;
  error: TributaryError | undefined;
}

/**
 * Every partition's log start offset, high watermark and log end offset, from one ListOffsets
 * call per leader broker, all leaders at once. A partition without a leader, or whose leader
 * fails or does not answer, carries the error instead of offsets.
 */
export async function listPartitionOffsets(client: ConsumerClient, topic: TopicInfo, brokers: readonly BrokerInfo[]): Promise<PartitionOffsets[]> {
  const byLeader = new Map<string, PartitionRoute[]>();
  const answers = new Map<number, PartitionOffsets>();
  for (const route of routesOf(topic, brokers).partitions) {
    if (route.address === '') {
      const why = route.leaderId === 0 ? 'the partition has no leader now' : `the address of its leader ${route.leaderId} is unknown`;
      answers.set(route.partition, failed(route, new TributaryError('NOT_LEADER', why, { retriable: true })));
      continue;
    }
    byLeader.set(route.address, [...(byLeader.get(route.address) ?? []), route]);
  }
  await Promise.all([...byLeader].map(async ([address, routes]) => {
    const queries = routes.map((route) => ({ topic: route.topic, partition: route.partition, spec: 'latest' as const, currentLeaderEpoch: 0 }));
    try {
      const results = await client.listOffsets(address, queries);
      routes.forEach((route, index) => answers.set(route.partition, answered(route, results[index])));
    } catch (error) {
      const failure = TributaryError.from(error);
      const unanswered = new TributaryError(failure.code, `broker ${routes[0]?.leaderId ?? 0} at ${address} did not answer ListOffsets: ${failure.message}`, { retriable: failure.retriable, cause: failure });
      for (const route of routes) answers.set(route.partition, failed(route, unanswered));
    }
  }));
  return topic.partitions.flatMap((partition) => answers.get(partition.partition) ?? []);
}

function answered(route: PartitionRoute, result: ListedOffsets | undefined): PartitionOffsets {
  if (result === undefined) return failed(route, new TributaryError('UNKNOWN', `broker ${route.leaderId} answered without partition ${route.topic}-${route.partition}`));
  if (result.error !== undefined) return failed(route, result.error);
  const { logStartOffset, highWatermark, logEndOffset } = result;
  return { topic: route.topic, partition: route.partition, leaderId: route.leaderId, offsets: { logStartOffset, highWatermark, logEndOffset }, error: undefined };
}

function failed(route: PartitionRoute, error: TributaryError): PartitionOffsets {
  return { topic: route.topic, partition: route.partition, leaderId: route.leaderId, offsets: undefined, error };
}
