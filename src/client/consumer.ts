import { TributaryError } from '../errors/index.js';
import {
  backoffDelayMs, ConsumerClient, type FetchedPartition, GroupCoordinatorClient, type ListedOffsets, MetadataClient, type RecordHeaderEntry,
} from '../rpc/clients/index.js';
import { type AssignorName, assignorNamed } from './assignors.js';
import { type ConnectionOptions, controllerOptionsOf, integerOption, retryPolicyOf } from './client-settings.js';
import { type GroupCoordinatorLink, GroupMembership } from './group-membership.js';
import { GroupRun, type RecordSource, type RunOptions } from './group-run.js';
import type { PartitionOffset } from './offset-tracker.js';
import { type PartitionRoute, PartitionRoutes, type TopicMetadataSource } from './partition-routes.js';
import { keyOf } from './record-accumulator.js';
import { retryDecision, type RetryPolicy } from './retry-policy.js';

/** Where to start reading a partition: an offset, its oldest stored record, or its high watermark. */
export type StartOffset = number | 'earliest' | 'latest';

export interface Assignment {
  topic: string;
  partition: number;
  offset: StartOffset;
}

/** One record as a consumer gets it. */
export interface ConsumerRecord {
  topic: string;
  partition: number;
  offset: number;
  /** undefined when the record has no key (an empty key reads the same). */
  key: Uint8Array | undefined;
  value: Uint8Array;
  headers: RecordHeaderEntry[];
  timestampMs: number;
}

export interface ConsumerOptions extends ConnectionOptions {
  /** How long a broker may hold a Fetch waiting for records (default 500 ms). */
  fetchMaxWaitMs?: number;
  /** Record bytes a broker waits for before answering early (default 1: any record). */
  fetchMinBytes?: number;
  /** Most record bytes one Fetch returns over all its partitions (default 4 MiB). */
  fetchMaxBytes?: number;
  /** Most record bytes one Fetch returns per partition (default 1 MiB). */
  partitionFetchMaxBytes?: number;
  /** Failed reads of a partition in a row before `poll` gives up and throws (default 10). */
  retriesMax?: number;
  backoffMsMin?: number;
  backoffMsMax?: number;
  random?: () => number;
  /**
   * What a Fetch answered with OFFSET_OUT_OF_RANGE does: move to the partition's oldest record or
   * its high watermark, or `none` (the default without a group): poll throws the error naming the
   * range. A group consumer defaults to `earliest` with fromBeginning, else `latest`.
   */
  offsetReset?: 'earliest' | 'latest' | 'none';
  /** The consumer group to join with subscribe() and run(); plain assign()/poll() need none. */
  groupId?: string;
  /** A group member the coordinator hears nothing from for this long is removed (default 30 s; the coordinator accepts 1 s to 30 min). */
  sessionTimeoutMs?: number;
  /** How long members have to rejoin once a rebalance starts (default 60 s). */
  rebalanceTimeoutMs?: number;
  /** Heartbeats while a member owns partitions (default 3 s; keep it well under sessionTimeoutMs). */
  heartbeatIntervalMs?: number;
  /** How often run() commits processed offsets with autoCommit (default 5 s). */
  autoCommitIntervalMs?: number;
  /** Where a partition the group never committed starts: its oldest record (true) or its high watermark (false, the default). */
  fromBeginning?: boolean;
  /** Assignors this member offers, in order of preference (default range, then roundrobin). */
  partitionAssigners?: AssignorName[];
}

/** How long a group member that owns no partitions waits at least before it looks for a rebalance again, so it does not spin. */
const idleWaitMsMin = 50;

/** Topics one consumer may subscribe to. */
export const subscribedTopicsMax = 1_000;

interface Position {
  readonly topic: string;
  readonly partition: number;
  next: StartOffset;
  failures: number;
}

interface ConsumerSettings extends RetryPolicy {
  fetchMaxWaitMs: number;
  fetchMinBytes: number;
  fetchMaxBytes: number;
  partitionFetchMaxBytes: number;
  offsetReset: 'earliest' | 'latest' | 'none';
}

interface GroupSettings {
  groupId: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  heartbeatIntervalMs: number;
  autoCommitIntervalMs: number;
  startWithoutCommit: 'earliest' | 'latest';
  assignors: AssignorName[];
}

/** What a Consumer talks to: the controllers for topic metadata and the leaders for Fetch and ListOffsets (the wire clients by default). */
export interface ConsumerLinks {
  readonly metadata: TopicMetadataSource & { close(): void };
  readonly brokers: Pick<ConsumerClient, 'fetch' | 'listOffsets' | 'close'>;
  /** The group coordinator, for consumers with a groupId (the wire client by default). */
  readonly groups?: GroupCoordinatorLink;
}

/** Partitions one consumer may be assigned: a bound on its positions and on the requests of one poll. */
export const assignedPartitionsMax = 10_000;

/**
 * Reads assigned partitions from their leaders with long-poll Fetch calls, one per leader broker
 * and poll, and hands out records in offset order per partition from each partition's position.
 * Follows NOT_LEADER hints and refreshes its metadata after routing errors; an offset outside the
 * log is an OFFSET_OUT_OF_RANGE naming the range, since silently jumping would skip or repeat data
 * (unless `offsetReset` says where to go). With a `groupId`, `subscribe` and `run` make it a member
 * of a consumer group: GroupMembership joins and GroupRun drives the same Fetch path over the
 * partitions the group assigns.
 */
export class Consumer implements AsyncIterable<ConsumerRecord> {
  private readonly settings: ConsumerSettings;
  private readonly random: () => number;
  private readonly links: ConsumerLinks;
  private readonly routes: PartitionRoutes;
  private readonly positions = new Map<string, Position>();
  private rotation = 0;
  /**
   * A partition that cannot be read, found while other partitions returned records: those are
   * handed out first (their positions already moved past them), and the next poll throws this.
   */
  private failure: { key: string; error: TributaryError } | undefined;
  private closed = false;
  private readonly group: GroupSettings | undefined;
  private readonly paused = new Set<string>();
  private topics: string[] = [];
  private running: GroupRun | undefined;

  constructor(options: ConsumerOptions, links?: ConsumerLinks) {
    const connection = controllerOptionsOf(options, 'tributary-consumer');
    this.settings = {
      ...retryPolicyOf(options),
      fetchMaxWaitMs: integerOption('fetchMaxWaitMs', options.fetchMaxWaitMs, 500, 0, 60_000),
      fetchMinBytes: integerOption('fetchMinBytes', options.fetchMinBytes, 1, 0, 67_108_864),
      fetchMaxBytes: integerOption('fetchMaxBytes', options.fetchMaxBytes, 4_194_304, 1, 67_108_864),
      partitionFetchMaxBytes: integerOption('partitionFetchMaxBytes', options.partitionFetchMaxBytes, 1_048_576, 1, 67_108_864),
      offsetReset: options.offsetReset ?? (options.groupId === undefined ? 'none' : options.fromBeginning ? 'earliest' : 'latest'),
    };
    this.group = groupSettingsOf(options);
    this.random = options.random ?? Math.random;
    this.links = links ?? {
      metadata: new MetadataClient(connection),
      brokers: new ConsumerClient(connection),
      groups: options.groupId === undefined ? undefined : new GroupCoordinatorClient(connection),
    };
    this.routes = new PartitionRoutes(this.links.metadata);
  }

  /**
   * Replaces the assigned partitions; each starts at its offset (`earliest`/`latest` are resolved
   * on the next poll). Like `seek`, call it between polls: a poll in progress moves positions.
   */
  assign(assignments: readonly Assignment[]): void {
    this.requireNotRunning('assign');
    this.replaceAssignments(assignments);
  }

  private replaceAssignments(assignments: readonly Assignment[]): void {
    if (assignments.length > assignedPartitionsMax) {
      throw new TributaryError('INVALID_REQUEST', `${assignments.length} partitions assigned; a consumer reads at most ${assignedPartitionsMax}`);
    }
    const positions = new Map<string, Position>();
    for (const { topic, partition, offset } of assignments) {
      const key = keyOf(topic, partition);
      if (positions.has(key)) throw new TributaryError('INVALID_REQUEST', `partition ${topic}-${partition} is assigned twice`);
      positions.set(key, { topic, partition, next: checkStartOffset(topic, partition, offset), failures: 0 });
    }
    this.positions.clear();
    for (const [key, position] of positions) this.positions.set(key, position);
    this.failure = undefined;
  }

  /** Moves an assigned partition's position; the next poll reads from there. */
  seek(topic: string, partition: number, offset: StartOffset): void {
    const position = this.assigned(topic, partition);
    position.next = checkStartOffset(topic, partition, offset);
    position.failures = 0;
    // A failure kept for the next poll is answered by moving the partition it was about.
    if (this.failure?.key === keyOf(topic, partition)) this.failure = undefined;
  }

  /** The offset of the next record `poll` returns for the partition; undefined until `earliest`/`latest` is resolved. */
  position(topic: string, partition: number): number | undefined {
    const { next } = this.assigned(topic, partition);
    return typeof next === 'number' ? next : undefined;
  }

  /**
   * One round of fetches: every assigned partition is asked of its leader, each leader once, and
   * the call returns what arrived (possibly nothing after `fetchMaxWaitMs`). Throws when a
   * partition cannot be read: OFFSET_OUT_OF_RANGE with the range, a non-retriable error, or
   * `retriesMax` failures in a row.
   */
  poll(): Promise<ConsumerRecord[]> {
    this.requireNotRunning('poll');
    return this.pollOnce();
  }

  private async pollOnce(): Promise<ConsumerRecord[]> {
    if (this.closed) throw new TributaryError('INVALID_REQUEST', 'the consumer is closed');
    if (this.positions.size === 0) throw new TributaryError('INVALID_REQUEST', 'no partitions are assigned; call assign() first');
    this.throwFailure();
    await this.resolveStartOffsets();
    const readable = [...this.positions.values()].filter((position) => typeof position.next === 'number' && !this.isPaused(position.topic, position.partition));
    if (readable.length === 0) {
      // Every partition is paused (or failed to resolve): wait as a Fetch would, so callers do not spin.
      await sleep(this.settings.fetchMaxWaitMs);
      return [];
    }
    const groups = await this.groupByLeader(readable);
    const fetched = await Promise.all([...groups].map(([address, routes]) => this.fetchFrom(address, routes)));
    const records = fetched.flat();
    if (records.length > 0) return records;
    this.throwFailure();
    await this.backOffAfterFailures();
    return records;
  }

  private throwFailure(): void {
    const failure = this.failure;
    this.failure = undefined;
    if (failure !== undefined) throw failure.error;
  }

  /** Records one by one, polling as needed, until `close`. */
  async *[Symbol.asyncIterator](): AsyncIterator<ConsumerRecord> {
    while (!this.closed) {
      for (const record of await this.poll()) yield record;
    }
  }

  /** Closes the connections at once. A consumer in a group should `disconnect()` instead, which commits and leaves first. */
  close(): void {
    this.closed = true;
    this.links.brokers.close();
    this.links.metadata.close();
    this.links.groups?.close();
  }

  /** The topics run() consumes as a member of the group (groupId). Call it before run(). */
  subscribe(subscription: { topics: readonly string[] }): void {
    const group = this.requireGroup('subscribe');
    this.requireNotRunning('subscribe');
    const topics = [...new Set(subscription.topics)];
    if (topics.length === 0 || topics.length > subscribedTopicsMax) {
      throw new TributaryError('INVALID_REQUEST', `group "${group.groupId}": subscribe to 1 to ${subscribedTopicsMax} topics, got ${topics.length}`);
    }
    for (const topic of topics) if (topic === '') throw new TributaryError('INVALID_REQUEST', `group "${group.groupId}": a subscribed topic name is empty`);
    this.topics = topics;
  }

  /**
   * Joins the group and hands every record of the partitions it is assigned to `eachMessage` (or
   * each partition's records of a fetch to `eachBatch`), one call at a time, until stop(). Resolves
   * once the first assignment is in place; `done()` tells how the run ended.
   */
  async run(options: RunOptions): Promise<void> {
    const group = this.requireGroup('run');
    this.requireNotRunning('run');
    if (this.closed) throw new TributaryError('INVALID_REQUEST', 'the consumer is closed');
    if (this.topics.length === 0) throw new TributaryError('INVALID_REQUEST', `group "${group.groupId}": call subscribe({ topics }) before run()`);
    const coordinator = this.groupLink();
    const membership = new GroupMembership(
      {
        groupId: group.groupId, topics: this.topics, sessionTimeoutMs: group.sessionTimeoutMs, rebalanceTimeoutMs: group.rebalanceTimeoutMs,
        assignors: group.assignors.map(assignorNamed), ...this.settings, random: this.random,
      },
      coordinator,
      (topics) => this.partitionCounts(topics),
    );
    const runSettings = { ...group, idleWaitMs: Math.max(idleWaitMsMin, this.settings.fetchMaxWaitMs) };
    const running = new GroupRun(runSettings, options, membership, coordinator, this.recordSource(), assignedPartitionsMax);
    this.running = running;
    try {
      await running.started;
    } catch (error) {
      // The run ended before its first assignment (it has left the group): the consumer is free again.
      if (this.running === running) this.running = undefined;
      throw error;
    }
  }

  /** Resolves when a run() ended by stop(); rejects with what ended it otherwise (a handler's error, a fatal answer of the coordinator). */
  done(): Promise<void> {
    if (this.running === undefined) throw new TributaryError('INVALID_REQUEST', 'run() was not called');
    return this.running.done;
  }

  /** Ends run(): the handler in flight finishes, processed offsets are committed (autoCommit), the member leaves the group. */
  async stop(): Promise<void> {
    const running = this.running;
    if (running === undefined) return;
    try {
      await running.stop();
    } finally {
      if (this.running === running) this.running = undefined;
    }
  }

  /** stop(), then close(). */
  async disconnect(): Promise<void> {
    try {
      await this.stop();
    } finally {
      this.close();
    }
  }

  /**
   * Commits offsets as this member and generation: each the offset of the next record to read
   * (the last processed + 1). Never below what this member committed for the partition in this
   * generation (INVALID_REQUEST); a commit the coordinator fences is ILLEGAL_GENERATION or
   * UNKNOWN_MEMBER, and the member rejoins.
   */
  commitOffsets(offsets: readonly PartitionOffset[]): Promise<void> {
    if (this.running === undefined) return Promise.reject(new TributaryError('INVALID_REQUEST', 'commitOffsets needs a running group consumer: call run() first'));
    return this.running.commit(offsets);
  }

  /** Stops reading the partitions (all of a topic's when `partitions` is absent) until resume(). */
  pause(topics: ReadonlyArray<{ topic: string; partitions?: number[] }>): void {
    for (const key of this.keysOf(topics)) this.paused.add(key);
  }

  resume(topics: ReadonlyArray<{ topic: string; partitions?: number[] }>): void {
    for (const key of this.keysOf(topics)) this.paused.delete(key);
  }

  isPaused(topic: string, partition: number): boolean {
    return this.paused.has(keyOf(topic, partition)) || this.paused.has(keyOf(topic, -1));
  }

  private keysOf(topics: ReadonlyArray<{ topic: string; partitions?: number[] }>): string[] {
    return topics.flatMap(({ topic, partitions }) => (partitions ?? [-1]).map((partition) => keyOf(topic, partition)));
  }

  private recordSource(): RecordSource {
    return {
      assign: (assignments) => this.replaceAssignments(assignments),
      poll: () => this.pollOnce(),
      seek: (topic, partition, offset) => this.seek(topic, partition, offset),
      position: (topic, partition) => this.position(topic, partition),
      isPaused: (topic, partition) => this.isPaused(topic, partition),
    };
  }

  /** Partition counts of the topics that exist; a topic not (yet) created gets no partitions, as in Kafka. */
  private async partitionCounts(topics: readonly string[]): Promise<Map<string, number>> {
    const { topics: found } = await this.links.metadata.topics(topics);
    const counts = new Map<string, number>();
    for (const lookup of found) {
      if (lookup.topic !== undefined) counts.set(lookup.name, lookup.topic.partitions.length);
      else if (lookup.error.code !== 'TOPIC_NOT_FOUND') throw lookup.error;
    }
    return counts;
  }

  private groupLink(): GroupCoordinatorLink {
    if (this.links.groups === undefined) throw new TributaryError('INVALID_REQUEST', 'the consumer links have no group coordinator; pass links.groups with a groupId');
    return this.links.groups;
  }

  private requireGroup(what: string): GroupSettings {
    if (this.group === undefined) throw new TributaryError('INVALID_REQUEST', `${what}() needs a consumer group: pass the groupId option`);
    return this.group;
  }

  private requireNotRunning(what: string): void {
    if (this.running !== undefined) throw new TributaryError('INVALID_REQUEST', `${what}() is not available while run() consumes for group "${this.group?.groupId ?? ''}"; call stop() first`);
  }

  private assigned(topic: string, partition: number): Position {
    const position = this.positions.get(keyOf(topic, partition));
    if (position === undefined) throw new TributaryError('INVALID_REQUEST', `partition ${topic}-${partition} is not assigned to this consumer`);
    return position;
  }

  /** Turns `earliest` and `latest` into offsets with ListOffsets, one call per leader. */
  private async resolveStartOffsets(): Promise<void> {
    const symbolic = [...this.positions.values()].filter((position) => typeof position.next !== 'number');
    if (symbolic.length === 0) return;
    const groups = await this.groupByLeader(symbolic);
    await Promise.all([...groups].map(async ([address, routes]) => {
      const queries = routes.map((route) => ({ topic: route.topic, partition: route.partition, spec: this.startOf(route) === 'earliest' ? 'earliest' as const : 'latest' as const, currentLeaderEpoch: route.leaderEpoch }));
      const results = await this.links.brokers.listOffsets(address, queries).catch((error: unknown) => routes.map((route) => failedListing(route, error)));
      for (const result of results) this.applyListing(address, result);
    }));
  }

  private startOf(route: PartitionRoute): StartOffset {
    return this.assigned(route.topic, route.partition).next;
  }

  private applyListing(address: string, result: ListedOffsets): void {
    const position = this.positions.get(keyOf(result.topic, result.partition));
    if (position === undefined) return;
    if (result.error !== undefined) {
      this.failed(position, result.error, address);
      return;
    }
    position.next = result.offset;
    position.failures = 0;
  }

  /** The positions' routes grouped by leader address; a partition whose leader is unknown counts a failure. */
  private async groupByLeader(positions: readonly Position[]): Promise<Map<string, PartitionRoute[]>> {
    const groups = new Map<string, PartitionRoute[]>();
    // Rotating the order spreads a Fetch's byte budget fairly: the broker fills partitions in request order.
    const start = positions.length === 0 ? 0 : this.rotation++ % positions.length;
    const rotated = [...positions.slice(start), ...positions.slice(0, start)];
    for (const position of rotated) {
      let route: PartitionRoute;
      try {
        route = await this.routes.leaderOf(position.topic, position.partition);
      } catch (error) {
        const failure = TributaryError.from(error);
        // The controllers' word that a topic or partition does not exist is final.
        if (!failure.retriable) throw failure;
        this.failed(position, failure, '');
        continue;
      }
      groups.set(route.address, [...(groups.get(route.address) ?? []), route]);
    }
    return groups;
  }

  private async fetchFrom(address: string, routes: readonly PartitionRoute[]): Promise<ConsumerRecord[]> {
    const partitions = routes.map((route) => ({
      topic: route.topic, partition: route.partition, fetchOffset: this.offsetOf(route), maxBytes: this.settings.partitionFetchMaxBytes, currentLeaderEpoch: route.leaderEpoch,
    }));
    const { fetchMaxWaitMs: maxWaitMs, fetchMinBytes: minBytes, fetchMaxBytes: maxBytes } = this.settings;
    let results: FetchedPartition[];
    try {
      results = await this.links.brokers.fetch(address, { partitions, maxWaitMs, minBytes, maxBytes });
    } catch (error) {
      for (const route of routes) this.failed(this.assigned(route.topic, route.partition), TributaryError.from(error), address);
      return [];
    }
    return results.flatMap((result) => this.take(address, result));
  }

  private offsetOf(route: PartitionRoute): number {
    const next = this.startOf(route);
    if (typeof next !== 'number') throw new Error(`partition ${route.topic}-${route.partition} is fetched before its start offset is resolved`);
    return next;
  }

  /** The records of one partition's result from its position on, advancing the position past them. */
  private take(address: string, result: FetchedPartition): ConsumerRecord[] {
    const position = this.positions.get(keyOf(result.topic, result.partition));
    if (position === undefined || typeof position.next !== 'number') return [];
    if (result.error?.code === 'OFFSET_OUT_OF_RANGE' && this.settings.offsetReset !== 'none') {
      position.next = this.settings.offsetReset;
      return [];
    }
    if (result.error?.code === 'OFFSET_OUT_OF_RANGE') {
      this.failure ??= { key: keyOf(position.topic, position.partition), error: outOfRange(position.topic, position.partition, position.next, result) };
      return [];
    }
    if (result.error !== undefined) {
      this.failed(position, result.error, address);
      return [];
    }
    position.failures = 0;
    const from = position.next;
    // The first batch may start before the position; its earlier records were already returned.
    const records = result.records.filter((record) => record.offset >= from).map((record) => ({ topic: position.topic, partition: position.partition, ...record }));
    const last = records.at(-1);
    if (last !== undefined) position.next = last.offset + 1;
    return records;
  }

  /** Counts a failed read of the partition and fixes its route, or keeps the error for `poll` to throw when it should not be retried. */
  private failed(position: Position, error: TributaryError, address: string): void {
    position.failures++;
    const decision = retryDecision(error, { failures: position.failures, nowMs: 0, deadlineMs: Number.MAX_SAFE_INTEGER, triedAddress: address }, this.settings, this.random);
    const where = `partition ${position.topic}-${position.partition}`;
    if (!decision.retry) {
      // The caller hears of it now; a later read starts a new count.
      position.failures = 0;
      const surfaced = new TributaryError(error.code, `${where} could not be read: ${error.message} (${decision.why})`, { retriable: error.retriable, leaderHint: error.leaderHint, cause: error });
      this.failure ??= { key: keyOf(position.topic, position.partition), error: surfaced };
      return;
    }
    if (decision.route === 'hint' && error.leaderHint !== undefined) this.routes.followHint(position.topic, position.partition, error.leaderHint);
    if (decision.route === 'refresh') this.routes.invalidate(position.topic);
  }

  /** When a poll returned nothing because partitions failed, waits before the next, so failures do not spin. */
  private async backOffAfterFailures(): Promise<void> {
    const failures = Math.max(0, ...[...this.positions.values()].map((position) => position.failures));
    if (failures === 0) return;
    await new Promise((resolve) => setTimeout(resolve, backoffDelayMs(failures, this.settings, this.random)));
  }
}

function groupSettingsOf(options: ConsumerOptions): GroupSettings | undefined {
  if (options.groupId === undefined) return undefined;
  if (options.groupId === '') throw new TributaryError('INVALID_REQUEST', 'option groupId must not be empty');
  const sessionTimeoutMs = integerOption('sessionTimeoutMs', options.sessionTimeoutMs, 30_000, 1_000, 1_800_000);
  const assignors = options.partitionAssigners ?? ['range', 'roundrobin'];
  for (const name of assignors) assignorNamed(name);
  return {
    groupId: options.groupId,
    sessionTimeoutMs,
    rebalanceTimeoutMs: integerOption('rebalanceTimeoutMs', options.rebalanceTimeoutMs, 60_000, 1_000, 3_600_000),
    heartbeatIntervalMs: integerOption('heartbeatIntervalMs', options.heartbeatIntervalMs, Math.min(3_000, Math.floor(sessionTimeoutMs / 3)), 1, sessionTimeoutMs - 1),
    autoCommitIntervalMs: integerOption('autoCommitIntervalMs', options.autoCommitIntervalMs, 5_000, 1, 3_600_000),
    startWithoutCommit: options.fromBeginning ? 'earliest' : 'latest',
    assignors,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function checkStartOffset(topic: string, partition: number, offset: StartOffset): StartOffset {
  if (!Number.isSafeInteger(partition) || partition < 0) throw new TributaryError('INVALID_REQUEST', `topic "${topic}": partition ${partition} must be a non-negative integer`);
  if (offset === 'earliest' || offset === 'latest') return offset;
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new TributaryError('INVALID_REQUEST', `partition ${topic}-${partition}: start offset ${String(offset)} must be a non-negative integer, 'earliest' or 'latest'`);
  }
  return offset;
}

function failedListing(route: PartitionRoute, error: unknown): ListedOffsets {
  return { topic: route.topic, partition: route.partition, error: TributaryError.from(error), offset: 0, logStartOffset: 0, highWatermark: 0, logEndOffset: 0, leaderEpoch: 0 };
}

function outOfRange(topic: string, partition: number, offset: number, result: FetchedPartition): TributaryError {
  return new TributaryError(
    'OFFSET_OUT_OF_RANGE',
    `partition ${topic}-${partition}: offset ${offset} is out of range; the partition holds offsets ${result.logStartOffset} to ${result.highWatermark} ` +
      `(log start offset to high watermark); seek to an offset in it, or to 'earliest' or 'latest'`,
  );
}
