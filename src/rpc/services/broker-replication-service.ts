import type { ServerDuplexStream } from '@grpc/grpc-js';
import type { Clock } from '../../actors/clock.js';
import type { PartitionLeaderSource } from '../../actors/partition-replica/partition-leader-lookup.js';
import { TributaryError } from '../../errors/index.js';
import { toErrorDetail, toGrpcStatus } from '../error-status.js';
import {
  BrokerReplicationServiceService, type EpochEndOffset, type GetLeaderEpochRequest, type GetLeaderEpochResponse, type ReplicateOpen,
  type ReplicateStreamRequest, type ReplicateStreamResponse,
} from '../generated/tributary/broker/v1/broker_replication_service.js';
import type { RpcService } from '../server/rpc-server.js';
import { LeaderChanges } from './leader-changes.js';
import { ReplicaFetchSession, type ReplicaFetchSessionLimits } from './replica-fetch-session.js';
import { serveUnary } from './serve-unary.js';

/** What the replication service needs of the running broker; absent until the broker role started. */
export interface ReplicationBroker {
  readonly leaders: PartitionLeaderSource;
  /** This broker's incarnation epoch; 0 until registered. */
  brokerEpoch(): number;
  /** A follower's incarnation epoch as this broker's metadata has it; undefined when it is not registered there. */
  brokerEpochOf(nodeId: number): number | undefined;
}

export interface BrokerReplicationServiceOptions {
  readonly nodeId: number;
  readonly clusterId: string;
  readonly broker: () => ReplicationBroker | undefined;
  readonly clock: Clock;
  readonly limits: ReplicaFetchSessionLimits;
  /** When it aborts, every open stream ends with SHUTTING_DOWN. */
  readonly shutdownSignal: AbortSignal;
}

type ReplicateCall = ServerDuplexStream<ReplicateStreamRequest, ReplicateStreamResponse>;

/**
 * `tributary.broker.v1.BrokerReplicationService`: the leader side of replication
 * (docs/REPLICATION.md). Each ReplicateStream is one follower broker's fetch session; GetLeaderEpoch
 * answers where an epoch ends in the partitions this broker leads.
 */
export function createBrokerReplicationService(options: BrokerReplicationServiceOptions): RpcService {
  const getLeaderEpoch = serveUnary<GetLeaderEpochRequest, GetLeaderEpochResponse>((request) => Promise.resolve(answerLeaderEpochs(options, request)));
  const changes = new LeaderChanges();
  const replicateStream = (call: ReplicateCall) => new ReplicateStreamHandler(options, changes, call).start();
  return { definition: BrokerReplicationServiceService, implementation: { replicateStream, getLeaderEpoch } };
}

/** One ReplicateStream: `open` first, then fetches one at a time, with acks at any time. */
class ReplicateStreamHandler {
  private session: ReplicaFetchSession | undefined;
  private fetching = false;
  private ended = false;
  /** Aborted when the stream ends: a fetch waiting for data stops waiting. */
  private readonly closed = new AbortController();

  constructor(
    private readonly options: BrokerReplicationServiceOptions,
    private readonly changes: LeaderChanges,
    private readonly call: ReplicateCall,
  ) {}

  start(): void {
    const { shutdownSignal } = this.options;
    const onShutdown = () => this.fail(new TributaryError('SHUTTING_DOWN', `broker ${this.options.nodeId} is shutting down; fetch from the next leader`));
    if (shutdownSignal.aborted) return onShutdown();
    shutdownSignal.addEventListener('abort', onShutdown, { once: true });
    this.closed.signal.addEventListener('abort', () => shutdownSignal.removeEventListener('abort', onShutdown), { once: true });
    this.call.on('data', (request: ReplicateStreamRequest) => this.receive(request));
    this.call.on('end', () => this.finish());
    this.call.on('cancelled', () => this.finish());
    this.call.on('error', () => this.finish());
  }

  private receive(request: ReplicateStreamRequest): void {
    try {
      const kind = request.kind;
      if (kind === undefined) throw new TributaryError('INVALID_REQUEST', 'a ReplicateStream message sets none of open, fetch or ack');
      if (kind.$case === 'open') this.open(kind.value);
      else if (this.session === undefined) throw new TributaryError('INVALID_REQUEST', `a ReplicateStream must start with open, not ${kind.$case}`);
      else if (kind.$case === 'ack') this.session.ack(kind.value);
      else this.fetch(this.session, kind.value);
    } catch (error) {
      this.fail(error);
    }
  }

  private open(open: ReplicateOpen): void {
    if (this.session !== undefined) throw new TributaryError('INVALID_REQUEST', 'open was sent twice on one ReplicateStream');
    const broker = this.options.broker();
    if (broker === undefined) throw new TributaryError('NOT_AVAILABLE', `broker ${this.options.nodeId} is starting; retry shortly`, { retriable: true });
    checkOpen(this.options, broker, open);
    this.session = new ReplicaFetchSession(open.replicaId, broker.leaders, this.options.clock, this.options.limits, this.changes);
    this.call.write({ kind: { $case: 'opened', value: { leaderId: this.options.nodeId, leaderIncarnationEpoch: broker.brokerEpoch() } } });
  }

  private fetch(session: ReplicaFetchSession, fetch: Parameters<ReplicaFetchSession['answer']>[0]): void {
    if (this.fetching) throw new TributaryError('INVALID_REQUEST', `fetch ${fetch.fetchId} was sent while the previous fetch is unanswered; one fetch at a time`);
    this.fetching = true;
    session.answer(fetch, this.closed.signal).then(
      (partitions) => {
        this.fetching = false;
        if (!this.ended) this.call.write({ kind: { $case: 'fetchResult', value: { fetchId: fetch.fetchId, partitions } } });
      },
      (error: unknown) => this.fail(error),
    );
  }

  private fail(error: unknown): void {
    if (this.ended) return;
    this.finish();
    this.call.emit('error', toGrpcStatus(error));
  }

  private finish(): void {
    this.ended = true;
    this.closed.abort();
  }
}

/** The follower must be who the metadata says, talking to this broker of this cluster. */
function checkOpen(options: BrokerReplicationServiceOptions, broker: ReplicationBroker, open: ReplicateOpen): void {
  if (open.clusterId !== options.clusterId) {
    throw new TributaryError('INVALID_REQUEST', `the follower is in cluster "${open.clusterId}", this broker in "${options.clusterId}"`);
  }
  if (open.leaderId !== options.nodeId) throw new TributaryError('INVALID_REQUEST', `the follower means to reach broker ${open.leaderId}; this is broker ${options.nodeId}`);
  if (open.replicaId < 1 || open.replicaId === options.nodeId) throw new TributaryError('INVALID_REQUEST', `replica id ${open.replicaId} is not another broker's node id`);
  const known = broker.brokerEpochOf(open.replicaId);
  if (known === undefined || open.incarnationEpoch > known) {
    const what = known === undefined ? 'is not registered in its metadata' : `is at incarnation epoch ${known} in its metadata`;
    throw new TributaryError('NOT_AVAILABLE', `broker ${options.nodeId} has not yet learned of broker ${open.replicaId}'s incarnation epoch ${open.incarnationEpoch} (it ${what}); retry shortly`, { retriable: true });
  }
  if (open.incarnationEpoch < known) {
    throw new TributaryError('FENCED', `broker ${open.replicaId}'s incarnation epoch ${open.incarnationEpoch} is older than its current ${known}; a newer process holds that node id`);
  }
}

function answerLeaderEpochs(options: BrokerReplicationServiceOptions, request: GetLeaderEpochRequest): GetLeaderEpochResponse {
  const broker = options.broker();
  if (broker === undefined) throw new TributaryError('NOT_AVAILABLE', `broker ${options.nodeId} is starting; retry shortly`, { retriable: true });
  const partitions = request.partitions.map((query): EpochEndOffset => {
    const topicPartition = query.topicPartition ?? { topic: '', partition: 0 };
    try {
      const leader = broker.leaders.leaderFor(topicPartition.topic, topicPartition.partition, query.currentLeaderEpoch);
      const end = leader.endOffsetForEpoch(query.leaderEpoch);
      return { topicPartition, leaderEpoch: end?.epoch ?? 0, endOffset: end?.endOffset ?? leader.logEndOffset() };
    } catch (error) {
      return { topicPartition, error: toErrorDetail(TributaryError.from(error)), leaderEpoch: 0, endOffset: 0 };
    }
  });
  return { partitions };
}
