import assert from 'node:assert/strict';
import type { Logger } from '../../observability/index.js';
import type { Message, NodeId } from '../../raft/index.js';
import type { RaftMessage } from '../generated/tributary/controller/v1/controller_raft_service.js';
import { toRaftMessageProto } from '../raft-message-mapping.js';
import { callMetadata, channelCredentialsFor, type ClientOptions } from './client-options.js';
import { RaftPeer, type RaftPeerContext, type RaftPeerLimits } from './raft-peer.js';

/**
 * How the raft host hands its core's messages to the other controllers (hashicorp's Transport,
 * etcd's rafthttp). Sending never blocks and never fails for a slow or dead peer: Raft tolerates
 * lost messages, and the host must keep ticking. The gRPC implementation is below; the simulator
 * has its own.
 */
export interface RaftTransport {
  /** Queues `messages` (a Ready's, AFTER its state is persisted) for their destinations and returns at once. */
  send(messages: readonly Message[]): void;
  /** The current peers: node id → "host:port". Peers no longer listed are disconnected; this node's own id is ignored. */
  setPeers(peers: ReadonlyMap<NodeId, string>): void;
  /** Ends every stream and closes every channel; messages still queued are dropped. */
  close(): Promise<void>;
}

/** Counters of what a transport could not deliver, for metrics and tests. */
export interface RaftTransportStats {
  /** Messages dropped because their peer's queue was full, oldest first, since the transport started. */
  readonly droppedMessages: number;
  /** Messages addressed to a node that is not a peer. */
  readonly unroutableMessages: number;
  /** Messages waiting per peer. */
  readonly queuedMessages: ReadonlyMap<NodeId, number>;
}

export interface GrpcRaftTransport extends RaftTransport {
  stats(): RaftTransportStats;
}

export type RaftTransportLimits = RaftPeerLimits;

/**
 * 4096 queued messages per peer, as etcd's stream buffer: a leader's in-flight window of appends
 * (256 by default) plus heartbeats and votes fits many times over.
 */
export const raftTransportLimitsDefault: RaftTransportLimits = Object.freeze({
  peerQueueMessagesMax: 4096,
  batchMessagesMax: 256,
  batchBytesMax: 4 * 1024 * 1024,
  backoffMsMin: 50,
  backoffMsMax: 2_000,
  acceptTimeoutMs: 5_000,
  closeGraceMs: 1_000,
});

export interface GrpcRaftTransportOptions {
  /** This controller's node id: the `from` of every message sent. */
  nodeId: NodeId;
  /** The quorum's cluster id; peers refuse streams naming another. */
  clusterId: string;
  /** Client identity, TLS and bearer token, as for every Tributary client; streams have no deadline. */
  client: Omit<ClientOptions, 'deadlineMs'>;
  limits?: Partial<RaftTransportLimits> | undefined;
  /** Called each time a stream to a peer fails (etcd's ReportUnreachable). */
  onPeerUnreachable?: ((peer: NodeId) => void) | undefined;
  /** Jitter source in [0, 1); injected so tests can pin it. */
  random?: (() => number) | undefined;
  logger?: Logger | undefined;
}

/** The gRPC RaftTransport: per peer, one channel, one StreamMessages stream, one InstallSnapshot stream per snapshot. */
export function createGrpcRaftTransport(options: GrpcRaftTransportOptions): GrpcRaftTransport {
  const context: RaftPeerContext = {
    nodeId: options.nodeId,
    clusterId: options.clusterId,
    clientId: options.client.clientId,
    credentials: channelCredentialsFor(options.client.tls),
    metadata: callMetadata(options.client),
    limits: { ...raftTransportLimitsDefault, ...options.limits },
    random: options.random ?? Math.random,
    onUnreachable: (peer) => options.onPeerUnreachable?.(peer),
    logger: options.logger,
  };
  return new PeerSet(context);
}

class PeerSet implements GrpcRaftTransport {
  private readonly peers = new Map<NodeId, RaftPeer>();
  /** Closes of removed peers still running; close() waits for them too. */
  private readonly closing = new Set<Promise<void>>();
  private droppedByRemovedPeers = 0;
  private unroutable = 0;
  private closed = false;

  constructor(private readonly context: RaftPeerContext) {}

  send(messages: readonly Message[]): void {
    if (this.closed) return;
    const byPeer = new Map<RaftPeer, RaftMessage[]>();
    for (const message of messages) {
      assert.equal(message.from, this.context.nodeId, `raft transport of node ${this.context.nodeId} asked to send a message from node ${message.from}`);
      const proto = toRaftMessageProto(message);
      const peer = this.peers.get(message.to);
      if (peer === undefined) {
        this.unroutable += 1;
        continue;
      }
      const batch = byPeer.get(peer);
      if (batch === undefined) byPeer.set(peer, [proto]);
      else batch.push(proto);
    }
    for (const [peer, batch] of byPeer) peer.enqueue(batch);
  }

  setPeers(peers: ReadonlyMap<NodeId, string>): void {
    if (this.closed) return;
    for (const [id, peer] of this.peers) {
      if (peers.get(id) !== peer.address) this.remove(peer);
    }
    for (const [id, address] of peers) {
      if (id !== this.context.nodeId && !this.peers.has(id)) this.peers.set(id, new RaftPeer(id, address, this.context));
    }
  }

  stats(): RaftTransportStats {
    const peers = [...this.peers.values()];
    return {
      droppedMessages: this.droppedByRemovedPeers + peers.reduce((sum, peer) => sum + peer.droppedCount, 0),
      unroutableMessages: this.unroutable,
      queuedMessages: new Map(peers.map((peer) => [peer.id, peer.queuedCount])),
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const peer of [...this.peers.values()]) this.remove(peer);
    await Promise.all([...this.closing]);
  }

  private remove(peer: RaftPeer): void {
    this.peers.delete(peer.id);
    this.droppedByRemovedPeers += peer.droppedCount;
    const closing = peer.close().finally(() => this.closing.delete(closing));
    this.closing.add(closing);
  }
}
