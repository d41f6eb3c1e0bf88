import {
  type AppliedMetadataCommand,
  encodeMetadataCommand,
  type MetadataCommand,
  type MetadataCommandOutputs,
  type MetadataState,
} from '../../controller/index.js';
import { type LeaderHint, TributaryError } from '../../errors/index.js';
import type { Logger } from '../../observability/index.js';
import type { Membership, Message, NodeId, Random, RaftStatus, SoftState } from '../../raft/index.js';
import type { Clock } from '../clock.js';
import { RaftHost } from '../raft-host/raft-host.js';
import type { RaftHostSettings } from '../raft-host/raft-host-settings.js';
import type { RaftStores } from '../raft-host/raft-stores.js';
import { ControllerLeaderDuties, type LeaderDutySettings } from './controller-leader-duties.js';
import { MetadataDeltaFeed } from './metadata-delta-feed.js';
import { MetadataStateMachine } from './metadata-state-machine.js';

/** Where the host's messages go and which peers it dials: the gRPC RaftTransport in production. */
export interface ControllerTransport {
  send(messages: readonly Message[]): void;
  setPeers(peers: ReadonlyMap<NodeId, string>): void;
}

export interface MetadataControllerOptions {
  readonly nodeId: NodeId;
  /** Controllers from the config: id → address, this node included. */
  readonly quorum: ReadonlyMap<NodeId, string>;
  /** True for a node that must wait for AddController instead of bootstrapping the quorum. */
  readonly join: boolean;
  readonly stores: RaftStores;
  readonly transport: ControllerTransport;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
  readonly raft: RaftHostSettings;
  readonly duties: LeaderDutySettings;
  readonly feed: { readonly historyDeltasMax: number; readonly watchersMax: number };
  readonly onFailure?: (error: Error) => void;
}

export interface AddControllerOptions {
  /** Promote the learner to voter once it has caught up; false leaves it a learner. */
  readonly promote: boolean;
  /** Resolve only after the promotion (when promoting). */
  readonly waitForPromotion: boolean;
}

/**
 * One controller of the quorum (docs/CONTROLLER.md): the Raft host over the metadata state
 * machine, the delta feed for WatchMetadata, and the leader's duties. Services call it with
 * domain commands; it proposes them and answers with the state machine's result, or throws the
 * TributaryError the command was rejected with (NOT_LEADER carrying the leader's address).
 */
export class MetadataController {
  readonly feed: MetadataDeltaFeed;
  private readonly stateMachine: MetadataStateMachine;
  private readonly duties: ControllerLeaderDuties;
  private host!: RaftHost<AppliedMetadataCommand<unknown>>;

  private constructor(private readonly options: MetadataControllerOptions) {
    this.feed = new MetadataDeltaFeed(() => this.stateMachine.state, options.feed.historyDeltasMax, options.feed.watchersMax);
    this.stateMachine = new MetadataStateMachine({
      applied: (deltas, version) => {
        this.feed.applied(deltas, version);
        if (deltas.some((delta) => delta.kind === 'controllersChanged')) this.updatePeers();
      },
      restored: (state) => {
        this.feed.restored(state);
        this.updatePeers();
      },
    });
    this.duties = new ControllerLeaderDuties(this, options.clock, options.duties, options.logger);
  }

  static async start(options: MetadataControllerOptions): Promise<MetadataController> {
    const controller = new MetadataController(options);
    const voters = [...options.quorum.keys()].sort((left, right) => left - right);
    controller.host = await RaftHost.start({
      nodeId: options.nodeId,
      stores: options.stores,
      bootstrap: options.join ? undefined : { voters, learners: [] },
      stateMachine: controller.stateMachine,
      transport: options.transport,
      clock: options.clock,
      random: options.random,
      logger: options.logger,
      settings: options.raft,
      onSoftState: (softState, term) => controller.roleChanged(softState, term),
      ...(options.onFailure === undefined ? {} : { onFailure: options.onFailure }),
    });
    controller.updatePeers();
    return controller;
  }

  get nodeId(): NodeId {
    return this.options.nodeId;
  }

  /** The state as applied here: may lag the leader. Use linearizableState() for a fresh read. */
  get state(): MetadataState {
    return this.stateMachine.state;
  }

  /** Proposes `command` and resolves with its output once applied, or throws why it was rejected. */
  async submit<C extends MetadataCommand>(command: C): Promise<MetadataCommandOutputs[C['type']]> {
    const applied = await this.withLeaderAddress(() => this.host.propose(encodeMetadataCommand(command)));
    const { result } = applied;
    if (!result.ok) throw new TributaryError(result.code, result.message);
    return result.value as MetadataCommandOutputs[C['type']];
  }

  /** The state once it reflects every write committed before the call (ReadIndex), on any controller. */
  async linearizableState(): Promise<MetadataState> {
    await this.withLeaderAddress(() => this.host.linearizableBarrier());
    return this.stateMachine.state;
  }

  /** The local state if it is at most `maxStalenessMs` old, else a linearizable read. */
  async boundedStaleState(maxStalenessMs: number): Promise<{ state: MetadataState; stalenessMs: number; linearizable: boolean }> {
    const stalenessMs = this.stalenessMs();
    if (stalenessMs <= maxStalenessMs) return { state: this.stateMachine.state, stalenessMs, linearizable: false };
    return { state: await this.linearizableState(), stalenessMs: 0, linearizable: true };
  }

  /** How long since this controller last heard from a leader: 0 on the leader, Infinity before any contact. */
  stalenessMs(): number {
    return this.host.stalenessMs();
  }

  raftStatus(): RaftStatus {
    return this.host.status();
  }

  membership(): Membership {
    return this.host.currentMembership();
  }

  /** Where the leader is, for NOT_LEADER hints; node id 0 when none is known. */
  leaderHint(): LeaderHint {
    const { leader, term } = this.host.status();
    return { nodeId: leader, address: leader === 0 ? '' : (this.addressOf(leader) ?? ''), epoch: term };
  }

  /** A controller's address: from the metadata (AddController) or the configured quorum. */
  addressOf(nodeId: NodeId): string | undefined {
    return this.stateMachine.state.controllers.get(nodeId)?.address ?? this.options.quorum.get(nodeId);
  }

  /**
   * Adds a controller: registers its address and adds it as a learner; with `promote` (the
   * default) it then waits until the learner has caught up with the log (bounded by
   * `duties.catchUpTimeoutMs`) and promotes it to voter. With `waitForPromotion: false` the
   * promotion runs after this resolves, and a failed one is logged: the node stays a learner.
   */
  async addController(nodeId: NodeId, address: string, options: AddControllerOptions = { promote: true, waitForPromotion: true }): Promise<Membership> {
    this.assertLeader('AddController');
    const membership = this.host.currentMembership();
    if (membership.voters.includes(nodeId)) throw new TributaryError('INVALID_REQUEST', `controller ${nodeId} is already a voter of the quorum (${membership.voters.join(', ')})`);
    await this.submit({ type: 'registerController', nodeId, address, role: 'learner' });
    const added = membership.learners.includes(nodeId) ? membership : await this.withLeaderAddress(() => this.host.proposeConfChange({ type: 'addLearner', nodeId }));
    if (!options.promote) return added;
    if (options.waitForPromotion) return this.promoteWhenCaughtUp(nodeId, address);
    this.promoteWhenCaughtUp(nodeId, address).catch((error: unknown) => {
      this.options.logger.warn({ err: error, nodeId }, 'controller was not promoted to voter; it stays a learner');
    });
    return added;
  }

  private async promoteWhenCaughtUp(nodeId: NodeId, address: string): Promise<Membership> {
    await this.duties.waitUntilCaughtUp(nodeId);
    const promoted = await this.withLeaderAddress(() => this.host.proposeConfChange({ type: 'promoteLearner', nodeId }));
    await this.submit({ type: 'registerController', nodeId, address, role: 'voter' });
    return promoted;
  }

  async removeController(nodeId: NodeId): Promise<Membership> {
    this.assertLeader('RemoveController');
    const membership = this.host.currentMembership();
    if (!membership.voters.includes(nodeId) && !membership.learners.includes(nodeId)) {
      throw new TributaryError('NODE_NOT_FOUND', `controller ${nodeId} is not in the quorum (voters ${membership.voters.join(', ')}; learners ${membership.learners.join(', ') || 'none'})`);
    }
    const after = await this.withLeaderAddress(() => this.host.proposeConfChange({ type: 'removeNode', nodeId }));
    // The leader removing itself stops leading once the change commits: its successor unregisters it.
    if (nodeId !== this.options.nodeId) await this.submit({ type: 'unregisterController', nodeId });
    return after;
  }

  transferLeadership(target: NodeId): void {
    this.assertLeader('TransferControllerLeadership');
    if (!this.host.currentMembership().voters.includes(target)) {
      throw new TributaryError('NODE_NOT_FOUND', `controller ${target} is not a voter of the quorum (${this.host.currentMembership().voters.join(', ')})`);
    }
    this.withLeaderAddressSync(() => this.host.transferLeadership(target));
  }

  /** Delivers a peer's Raft message (the ControllerRaftService sink). */
  step(message: Message): void {
    this.host.step(message);
  }

  async stop(): Promise<void> {
    this.duties.stop();
    await this.host.stop();
  }

  private assertLeader(operation: string): void {
    if (this.host.status().role !== 'leader') {
      throw new TributaryError('NOT_LEADER', `${operation} must go to the controller leader; controller ${this.options.nodeId} is not it`, { leaderHint: this.leaderHint() });
    }
  }

  private roleChanged(softState: SoftState, term: number): void {
    if (softState.role === 'leader') this.duties.start(term);
    else this.duties.stop();
  }

  private updatePeers(): void {
    const peers = new Map(this.options.quorum);
    for (const controller of this.stateMachine.state.controllers.values()) peers.set(controller.nodeId, controller.address);
    peers.delete(this.options.nodeId);
    this.options.transport.setPeers(peers);
  }

  /** Adds the leader's address to a NOT_LEADER from the core, which knows only node ids. */
  private async withLeaderAddress<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw this.withHint(error);
    }
  }

  private withLeaderAddressSync(operation: () => void): void {
    try {
      operation();
    } catch (error) {
      throw this.withHint(error);
    }
  }

  private withHint(error: unknown): unknown {
    if (!(error instanceof TributaryError) || error.code !== 'NOT_LEADER') return error;
    const leaderHint = error.leaderHint?.nodeId ? { ...error.leaderHint, address: this.addressOf(error.leaderHint.nodeId) ?? '' } : this.leaderHint();
    return new TributaryError('NOT_LEADER', error.message, { leaderHint, cause: error });
  }
}
