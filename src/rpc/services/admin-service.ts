import type { handleServerStreamingCall } from '@grpc/grpc-js';
import type { MetadataController } from '../../actors/metadata-controller/metadata-controller.js';
import { listBrokers, planCreateTopic, type TopicPartition } from '../../controller/index.js';
import { TributaryError } from '../../errors/index.js';
import type { RaftStatus } from '../../raft/index.js';
import { toGrpcStatus } from '../error-status.js';
import { ControllerRole } from '../generated/tributary/common/v1/cluster.js';
import {
  type AddControllerRequest, type AddControllerResponse, AdminServiceService, type AlterTopicConfigRequest, type AlterTopicConfigResponse,
  type CreateTopicRequest, type CreateTopicResponse, type DeleteTopicRequest, type DeleteTopicResponse, type DescribeClusterRequest,
  type DescribeClusterResponse, type ElectLeadersRequest, type ElectLeadersResponse, ElectionType, type RemoveControllerRequest,
  type RemoveControllerResponse, type TransferControllerLeadershipRequest, type TransferControllerLeadershipResponse,
} from '../generated/tributary/controller/v1/admin_service.js';
import type { RpcService } from '../server/rpc-server.js';
import {
  brokerToProto, commandErrorToProto, controllersToProto, partitionToProto, topicConfigToProto, topicToProto,
} from './cluster-metadata-mapping.js';
import { requireLeader } from './require-leader.js';
import { serveUnary } from './serve-unary.js';
import { createTopicCommandOf, updateTopicConfigCommandOf } from './topic-config-request.js';

/** What the admin service asks of its controller. */
export type AdminController = Pick<
  MetadataController,
  'nodeId' | 'state' | 'submit' | 'linearizableState' | 'raftStatus' | 'leaderHint' | 'addressOf' | 'addController' | 'removeController' | 'transferLeadership'
>;

export interface AdminServiceOptions {
  controller: AdminController;
  clusterId: string;
  /** How long TransferControllerLeadership waits for the target's election: the longest election timeout. */
  transferTimeoutMs: number;
}

/** How often TransferControllerLeadership looks whether the target leads yet. */
const transferPollIntervalMs = 20;
/** The answer for the moves that arrive with the rebalancing work. */
const rebalancingNotBuilt = 'partition reassignment arrives with the rebalancing work; this controller cannot move replicas yet';

/**
 * `tributary.controller.v1.AdminService` on a controller: thin handlers that turn requests into
 * metadata commands for the MetadataController and its results into responses. Everything but
 * DescribeCluster with allow_follower needs the controller leader; a follower answers NOT_LEADER
 * with the leader's address.
 */
export function createAdminService(options: AdminServiceOptions): RpcService {
  const { controller } = options;
  const refuseMove: handleServerStreamingCall<unknown, unknown> = (call) => {
    call.emit('error', toGrpcStatus(new TributaryError('NOT_AVAILABLE', rebalancingNotBuilt, { retriable: false })));
  };
  return {
    definition: AdminServiceService,
    implementation: {
      createTopic: serveUnary((request: CreateTopicRequest) => createTopic(controller, request)),
      deleteTopic: serveUnary((request: DeleteTopicRequest) => deleteTopic(controller, request)),
      alterTopicConfig: serveUnary((request: AlterTopicConfigRequest) => alterTopicConfig(controller, request)),
      describeCluster: serveUnary((request: DescribeClusterRequest) => describeCluster(controller, options.clusterId, request)),
      electLeaders: serveUnary((request: ElectLeadersRequest) => electLeaders(controller, request)),
      transferControllerLeadership: serveUnary((request: TransferControllerLeadershipRequest) => transferLeadership(controller, request, options.transferTimeoutMs)),
      addController: serveUnary((request: AddControllerRequest) => addController(controller, request)),
      removeController: serveUnary((request: RemoveControllerRequest) => removeController(controller, request)),
      reassignPartitions: refuseMove,
      decommissionBroker: refuseMove,
    },
  };
}

async function createTopic(controller: AdminController, request: CreateTopicRequest): Promise<CreateTopicResponse> {
  requireLeader(controller, 'CreateTopic');
  const command = createTopicCommandOf(request, await controller.linearizableState());
  if (request.validateOnly) {
    return { topic: topicToProto(planCreateTopic(controller.state, command, ''), { includePartitions: true }), metadataVersion: 0 };
  }
  const { topic } = await controller.submit(command);
  return { topic: topicToProto(topic, { includePartitions: true }), metadataVersion: controller.state.version };
}

async function deleteTopic(controller: AdminController, request: DeleteTopicRequest): Promise<DeleteTopicResponse> {
  requireLeader(controller, 'DeleteTopic');
  const { topicId } = await controller.submit({ type: 'deleteTopic', name: request.name, topicId: request.topicId });
  return { topicId, metadataVersion: controller.state.version };
}

async function alterTopicConfig(controller: AdminController, request: AlterTopicConfigRequest): Promise<AlterTopicConfigResponse> {
  requireLeader(controller, 'AlterTopicConfig');
  const { config } = await controller.submit(updateTopicConfigCommandOf(request));
  return { config: topicConfigToProto(config), metadataVersion: controller.state.version };
}

/** With allow_follower, this controller's own applied state and Raft progress; otherwise the leader's, after a ReadIndex. */
async function describeCluster(controller: AdminController, clusterId: string, request: DescribeClusterRequest): Promise<DescribeClusterResponse> {
  if (!request.allowFollower) requireLeader(controller, 'DescribeCluster without allow_follower');
  const state = request.allowFollower ? controller.state : await controller.linearizableState();
  const status = controller.raftStatus();
  return {
    clusterId,
    leaderId: status.leader,
    metadataVersion: state.version,
    controllers: controllersToProto(status, (nodeId) => controller.addressOf(nodeId)),
    brokers: listBrokers(state, { includeFenced: request.includeFenced }).map(brokerToProto),
    responderId: controller.nodeId,
    term: status.term,
    commitIndex: status.commitIndex,
    appliedIndex: status.appliedIndex,
  };
}

async function electLeaders(controller: AdminController, request: ElectLeadersRequest): Promise<ElectLeadersResponse> {
  requireLeader(controller, 'ElectLeaders');
  const election = request.electionType === ElectionType.PREFERRED ? 'preferred' : request.electionType === ElectionType.UNCLEAN ? 'unclean' : undefined;
  if (election === undefined) throw new TributaryError('INVALID_REQUEST', `election_type ${request.electionType} is not PREFERRED (1) or UNCLEAN (2)`);
  const partitions: TopicPartition[] = request.partitions.map(({ topic, partition }) => ({ topic, partition }));
  const { results } = await controller.submit({ type: 'electLeaders', election, partitions });
  return {
    results: results.map((result) => ({
      topicPartition: { topic: result.topic, partition: result.partition },
      error: result.error === null ? undefined : commandErrorToProto(result.error),
      changed: result.changed,
      partition: result.record === null ? undefined : partitionToProto(result.topic, result.record),
    })),
    metadataVersion: controller.state.version,
  };
}

async function transferLeadership(
  controller: AdminController, request: TransferControllerLeadershipRequest, timeoutMs: number,
): Promise<TransferControllerLeadershipResponse> {
  requireLeader(controller, 'TransferControllerLeadership');
  const before = controller.raftStatus();
  const target = request.targetNodeId === 0 ? mostCaughtUpVoter(before) : request.targetNodeId;
  if (target === controller.nodeId) return { leaderId: target, term: before.term };
  controller.transferLeadership(target);
  const deadlineMs = Date.now() + timeoutMs;
  for (;;) {
    const status = controller.raftStatus();
    if (status.leader === target && status.term > before.term) return { leaderId: target, term: status.term };
    if (Date.now() > deadlineMs) {
      throw new TributaryError('TIMEOUT', `controller ${target} was not elected within ${timeoutMs} ms; controller ${status.leader || 'none'} leads in term ${status.term}`);
    }
    await new Promise((resolve) => setTimeout(resolve, transferPollIntervalMs));
  }
}

/** The voter other than the leader with the highest match index; the leader itself when it is the only voter. */
function mostCaughtUpVoter(status: RaftStatus): number {
  let best = status.id;
  let bestMatch = -1;
  for (const voter of status.membership.voters) {
    const matchIndex = status.progress.get(voter)?.matchIndex ?? -1;
    if (voter !== status.id && matchIndex > bestMatch) [best, bestMatch] = [voter, matchIndex];
  }
  return best;
}

/**
 * Adds a learner, promoted to voter when the target role is voter (or unspecified). Idempotent
 * for the same id and address: a repeat for a member answers with its current role.
 */
async function addController(controller: AdminController, request: AddControllerRequest): Promise<AddControllerResponse> {
  requireLeader(controller, 'AddController');
  const { nodeId, address } = request;
  if (!Number.isSafeInteger(nodeId) || nodeId < 1) throw new TributaryError('INVALID_REQUEST', `node_id ${nodeId} is not a node id (an integer ≥ 1)`);
  requireHostPort(address);
  const known = controller.state.controllers.get(nodeId);
  const { voters, learners } = controller.raftStatus().membership;
  if ((voters.includes(nodeId) || learners.includes(nodeId)) && known !== undefined && known.address !== address) {
    throw new TributaryError('INVALID_REQUEST', `controller ${nodeId} is already in the quorum at ${known.address}, not ${address}; remove it first`);
  }
  const promote = request.targetRole !== ControllerRole.LEARNER;
  const done = voters.includes(nodeId) || (!promote && learners.includes(nodeId));
  if (!done) await controller.addController(nodeId, address, { promote, waitForPromotion: request.waitForPromotion });
  const added = controllersToProto(controller.raftStatus(), (id) => controller.addressOf(id)).find((info) => info.nodeId === nodeId);
  return { controller: added, metadataVersion: controller.state.version };
}

async function removeController(controller: AdminController, request: RemoveControllerRequest): Promise<RemoveControllerResponse> {
  requireLeader(controller, 'RemoveController');
  const { voters, learners } = controller.raftStatus().membership;
  // Idempotent: removing a controller that is not in the quorum succeeds.
  if (voters.includes(request.nodeId) || learners.includes(request.nodeId)) await controller.removeController(request.nodeId);
  const controllers = controllersToProto(controller.raftStatus(), (id) => controller.addressOf(id)).filter((info) => info.nodeId !== request.nodeId);
  return { controllers, metadataVersion: controller.state.version };
}

function requireHostPort(address: string): void {
  const colon = address.lastIndexOf(':');
  const port = Number(address.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new TributaryError('INVALID_REQUEST', `address "${address}" is not host:port with a port from 1 to 65535`);
  }
}
