import { type handleClientStreamingCall, Metadata } from '@grpc/grpc-js';
import { TributaryError } from '../../errors/index.js';
import type { Message, NodeId } from '../../raft/index.js';
import { toGrpcStatus } from '../error-status.js';
import {
  ControllerRaftServiceService,
  type InstallSnapshotRequest,
  type InstallSnapshotResponse,
  type StreamMessagesRequest,
  type StreamMessagesResponse,
} from '../generated/tributary/controller/v1/controller_raft_service.js';
import { fromRaftMessageProto } from '../raft-message-mapping.js';
import type { RpcService } from '../server/rpc-server.js';

/**
 * Where the service delivers each message from a peer: the raft host steps it into its core.
 * It is called in arrival order per stream and must not block; a throw ends that peer's stream
 * with the error (the peer reconnects).
 */
export type RaftMessageSink = (message: Message) => void;

/** Messages one StreamMessages request may carry; the gRPC transport sends at most 256. */
export const streamBatchMessagesMaxDefault = 4096;

/** Bytes of one snapshot chunk's data; the core cuts 1 MiB chunks by default. */
export const snapshotChunkBytesMaxDefault = 8 * 1024 * 1024;

export interface ControllerRaftServiceOptions {
  /** This controller's node id: every stream must be addressed to it. */
  nodeId: NodeId;
  /** The quorum's cluster id: a stream from another cluster is refused. */
  clusterId: string;
  sink: RaftMessageSink;
  /** When it aborts, every open stream is ended with SHUTTING_DOWN, so shutdown is not held up. */
  shutdownSignal?: AbortSignal | undefined;
  streamBatchMessagesMax?: number;
  snapshotChunkBytesMax?: number;
}

type ServiceSettings = Required<Omit<ControllerRaftServiceOptions, 'shutdownSignal'>> & { shutdownSignal: AbortSignal | undefined };

/** The sender and receiver a stream's first request names. */
interface StreamRoute {
  readonly fromId: NodeId;
  readonly toId: NodeId;
}

interface RoutedRequest {
  clusterId: string;
  fromId: number;
  toId: number;
}

/**
 * `tributary.controller.v1.ControllerRaftService`: a thin handler that checks each stream's
 * route, decodes and validates each message, and hands it to the sink. Responses are not its
 * business: the core answers with messages of its own, which the host sends back over its own
 * stream to the peer (docs/RAFT.md, Transport).
 */
export function createControllerRaftService(options: ControllerRaftServiceOptions): RpcService {
  const settings: ServiceSettings = {
    streamBatchMessagesMax: streamBatchMessagesMaxDefault,
    snapshotChunkBytesMax: snapshotChunkBytesMaxDefault,
    ...options,
    shutdownSignal: options.shutdownSignal,
  };
  const streamMessages: handleClientStreamingCall<StreamMessagesRequest, StreamMessagesResponse> = serveInboundStream(
    'StreamMessages',
    settings,
    (request, route) => decodeBatch(request, route, settings),
    (messageCount) => ({ messageCount }),
  );
  const installSnapshot: handleClientStreamingCall<InstallSnapshotRequest, InstallSnapshotResponse> = serveInboundStream(
    'InstallSnapshot',
    settings,
    (request, route, first) => decodeChunk(request, route, first, settings),
    (chunkCount) => ({ chunkCount }),
  );
  return { definition: ControllerRaftServiceService, implementation: { streamMessages, installSnapshot } };
}

type DecodeRequest<Request> = (request: Request, route: StreamRoute, first: boolean) => readonly Message[];

/**
 * One inbound client stream: the first request's route is checked and acknowledged with response
 * headers (the sender waits for them before sending messages, so a refused or unreachable peer
 * never swallows any); every request is decoded whole before any of its messages reaches the
 * sink, so a malformed request delivers nothing. The stream ends with a count when the sender
 * half-closes, or with the first error.
 */
function serveInboundStream<Request extends RoutedRequest, Response>(
  method: string,
  settings: ServiceSettings,
  decode: DecodeRequest<Request>,
  respond: (count: number) => Response,
): handleClientStreamingCall<Request, Response> {
  return (call, callback) => {
    let route: StreamRoute | undefined;
    let count = 0;
    let finished = false;
    const finish = (error: unknown) => {
      if (finished) return;
      finished = true;
      settings.shutdownSignal?.removeEventListener('abort', onShutdown);
      if (error === undefined) callback(null, respond(count));
      else callback(toGrpcStatus(error));
    };
    const onShutdown = () => finish(new TributaryError('SHUTTING_DOWN', `controller ${settings.nodeId} is shutting down and ended this ${method} stream; the sender reconnects`));
    settings.shutdownSignal?.addEventListener('abort', onShutdown, { once: true });
    if (settings.shutdownSignal?.aborted === true) onShutdown();
    call.on('data', (request: Request) => {
      if (finished) return;
      try {
        const first = route === undefined;
        route ??= acceptRoute(request, method, settings);
        if (first) call.sendMetadata(new Metadata());
        const messages = decode(request, route, first);
        for (const message of messages) settings.sink(message);
        count += messages.length;
      } catch (error) {
        finish(error);
      }
    });
    call.on('end', () => finish(undefined));
    call.on('error', (error) => finish(error));
    call.on('cancelled', () => finish(new TributaryError('NOT_AVAILABLE', `the sender cancelled its ${method} stream`)));
  };
}

function acceptRoute(request: RoutedRequest, method: string, settings: ServiceSettings): StreamRoute {
  const { clusterId, fromId, toId } = request;
  if (clusterId !== settings.clusterId || toId !== settings.nodeId) {
    throw new TributaryError(
      'INVALID_REQUEST',
      `${method} stream for cluster "${clusterId}" node ${toId} reached cluster "${settings.clusterId}" node ${settings.nodeId}; check the controller addresses the sender was given`,
    );
  }
  if (!Number.isSafeInteger(fromId) || fromId < 1) {
    throw new TributaryError('INVALID_REQUEST', `${method} stream: from_id must name the sending controller (at least 1), got ${fromId}`);
  }
  return { fromId, toId };
}

function decodeBatch(request: StreamMessagesRequest, route: StreamRoute, settings: ServiceSettings): Message[] {
  const count = request.messages.length;
  if (count > settings.streamBatchMessagesMax) {
    throw new TributaryError('INVALID_REQUEST', `StreamMessages request carries ${count} messages; at most ${settings.streamBatchMessagesMax} are allowed per request`);
  }
  return request.messages.map((proto) => {
    const message = routed(fromRaftMessageProto(proto), route, 'StreamMessages');
    if (message.type === 'snapshot') {
      throw new TributaryError('INVALID_REQUEST', 'StreamMessages carries no snapshot chunks; send them on InstallSnapshot');
    }
    return message;
  });
}

function decodeChunk(request: InstallSnapshotRequest, route: StreamRoute, first: boolean, settings: ServiceSettings): Message[] {
  if (request.message === undefined) {
    if (first) return [];
    throw new TributaryError('INVALID_REQUEST', 'InstallSnapshot request carries no chunk; every request after the first carries one');
  }
  const message = routed(fromRaftMessageProto(request.message), route, 'InstallSnapshot');
  if (message.type !== 'snapshot') {
    throw new TributaryError('INVALID_REQUEST', `InstallSnapshot carries only snapshot chunks, got a ${message.type} message; send it on StreamMessages`);
  }
  if (message.data.byteLength > settings.snapshotChunkBytesMax) {
    throw new TributaryError('INVALID_REQUEST', `snapshot chunk at offset ${message.offset} has ${message.data.byteLength} bytes; at most ${settings.snapshotChunkBytesMax} are allowed per chunk`);
  }
  return [message];
}

/** A message must travel on its own route: the stream's sender to the stream's receiver. */
function routed(message: Message, route: StreamRoute, method: string): Message {
  if (message.from !== route.fromId || message.to !== route.toId) {
    throw new TributaryError(
      'INVALID_REQUEST',
      `${method} stream from node ${route.fromId} to node ${route.toId} carried a ${message.type} message from node ${message.from} to node ${message.to}`,
    );
  }
  return message;
}
