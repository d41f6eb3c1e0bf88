import type { handleUnaryCall, ServerUnaryCall } from '@grpc/grpc-js';
import type { Clock } from '../../actors/clock.js';
import { TributaryError } from '../../errors/index.js';
import { toGrpcStatus } from '../error-status.js';
import type { RequestHeader } from '../generated/tributary/common/v1/common.js';
import {
  type CommitOffsetsRequest,
  type CommitOffsetsResponse,
  type FetchOffsetsRequest,
  type FetchOffsetsResponse,
  GroupCoordinatorServiceService,
  type HeartbeatRequest,
  type HeartbeatResponse,
  type JoinGroupRequest,
  type JoinGroupResponse,
  type LeaveGroupRequest,
  type LeaveGroupResponse,
  type SyncGroupRequest,
  type SyncGroupResponse,
} from '../generated/tributary/controller/v1/group_coordinator_service.js';
import type { RpcService } from '../server/rpc-server.js';
import { fetchOffsets } from './fetch-offsets.js';
import { GroupChangeWaiters } from './group-change-waiters.js';
import type { GroupCall, GroupServiceContext, GroupServiceController } from './group-call.js';
import { commitOffsets, groupHeartbeat, leaveGroup } from './group-member-calls.js';
import { joinGroup, syncGroup } from './group-rebalance-calls.js';

export interface GroupCoordinatorServiceOptions {
  readonly controller: GroupServiceController;
  /** Stamps `nowMs` on every group command: the leader's clock decides sessions and deadlines. */
  readonly clock: Clock;
  /** When it aborts, waiting JoinGroup and SyncGroup calls end with SHUTTING_DOWN. */
  readonly shutdownSignal?: AbortSignal | undefined;
}

/**
 * `tributary.controller.v1.GroupCoordinatorService` (docs/CONTROLLER.md): the consumer-group
 * protocol over the metadata state machine. Every write is a command proposed on the leader (a
 * follower answers NOT_LEADER with the hint); JoinGroup and SyncGroup are long polls that wait
 * for the group's state machine to reach the step they need. FetchOffsets is a ReadIndex read,
 * answered by any controller.
 */
export function createGroupCoordinatorService(options: GroupCoordinatorServiceOptions): RpcService {
  const shutdown = shutdownWithReason(options.shutdownSignal);
  const waiters = new GroupChangeWaiters(options.controller, options.clock, shutdown);
  const context: GroupServiceContext = { controller: options.controller, clock: options.clock, waiters, shutdown };
  const implementation = {
    joinGroup: unary<JoinGroupRequest, JoinGroupResponse>(context, joinGroup),
    syncGroup: unary<SyncGroupRequest, SyncGroupResponse>(context, syncGroup),
    heartbeat: unary<HeartbeatRequest, HeartbeatResponse>(context, groupHeartbeat),
    leaveGroup: unary<LeaveGroupRequest, LeaveGroupResponse>(context, leaveGroup),
    commitOffsets: unary<CommitOffsetsRequest, CommitOffsetsResponse>(context, commitOffsets),
    fetchOffsets: unary<FetchOffsetsRequest, FetchOffsetsResponse>(context, (call) => fetchOffsets(context.controller, call.request)),
  };
  return { definition: GroupCoordinatorServiceService, implementation };
}

function unary<Request extends { header?: RequestHeader | undefined }, Response>(
  context: GroupServiceContext,
  handler: (call: GroupCall<Request>, context: GroupServiceContext) => Promise<Response>,
): handleUnaryCall<Request, Response> {
  return (call, callback) => {
    const cancelled = new AbortController();
    call.on('cancelled', () => cancelled.abort(new TributaryError('NOT_AVAILABLE', 'the caller cancelled the call')));
    const groupCall: GroupCall<Request> = {
      request: call.request,
      clientId: call.request.header?.clientId ?? '',
      remainingMs: remainingMs(call),
      signals: [cancelled.signal, context.shutdown],
    };
    handler(groupCall, context).then(
      (response) => callback(null, response),
      (error: unknown) => callback(toGrpcStatus(error)),
    );
  };
}

/** The server's shutdown as an abort whose reason is what waiting calls end with. */
function shutdownWithReason(shutdownSignal: AbortSignal | undefined): AbortSignal {
  const relay = new AbortController();
  const abort = (): void => relay.abort(new TributaryError('SHUTTING_DOWN', 'the controller is shutting down; retry on the new leader'));
  if (shutdownSignal?.aborted === true) abort();
  else shutdownSignal?.addEventListener('abort', abort, { once: true });
  return relay.signal;
}

/** Milliseconds until the caller's deadline (wall clock, as gRPC deadlines are); Infinity when it set none. */
function remainingMs(call: ServerUnaryCall<unknown, unknown>): number {
  const deadline = call.getDeadline();
  const deadlineMs = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(deadlineMs) ? Math.max(0, deadlineMs - Date.now()) : Infinity;
}
