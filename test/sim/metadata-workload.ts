import type { MetadataCommand, MetadataState } from '../../src/controller/index.js';
import type { Entry } from '../../src/raft/raft-types.js';
import { ControllerDuty } from './controller-duty.js';
import type { ActorContext, MetadataActor, MetadataCounters } from './metadata-actor.js';
import { MetadataProposer, type ProposalOutcome, type ProposerContext, type ProposerEvent } from './metadata-proposer.js';
import { SimBroker, type BrokerOptions } from './sim-broker.js';
import { SimConsumer } from './sim-consumer.js';
import type { SimHost } from './sim-host.js';
import { SimOperator } from './sim-operator.js';
import type { AppliedOutcome } from './sim-state-machine.js';

/** Consumer groups the consumers are spread over. */
const groupCount = 2;

export type MetadataEvent = ProposerEvent | { readonly type: 'metadataWake'; readonly actor: number };

export interface MetadataWorkloadOptions extends BrokerOptions {
  /** 0: the run has no metadata workload. */
  readonly metadataBrokerCount: number;
  readonly staleViewRate: number;
  readonly operatorIntervalMsMax: number;
  readonly consumerCount: number;
  readonly controllerDutyIntervalMs: number;
  readonly operationTimeoutMs: number;
}

export interface MetadataWorkloadContext extends ProposerContext {
  readonly schedule: (delayMs: number, event: MetadataEvent) => void;
  /** The running node that leads in the highest term, if any. */
  readonly leader: () => SimHost | undefined;
}

/**
 * The clients of the controller's metadata state machine, driven by the seed: brokers registering,
 * heartbeating, pausing past their sessions and restarting, leading partitions and changing their
 * ISRs; an operator creating topics and asking for elections; consumers in groups; and the
 * leader's duty fencing expired brokers. Every command goes through Raft like the key-value
 * clients' writes (metadata-proposer.ts). After healing, every broker must reach standing 'active'.
 */
export class MetadataWorkload {
  readonly counters: MetadataCounters = { commands: 0, rejected: 0, brokersFenced: 0, staleAlterPartitionsProposed: 0, staleAlterPartitionsRejected: 0 };
  private readonly proposer: MetadataProposer;
  private readonly actors: MetadataActor[];
  readonly brokers: readonly SimBroker[];
  private liveness = false;

  constructor(
    private readonly options: MetadataWorkloadOptions,
    private readonly context: MetadataWorkloadContext,
  ) {
    this.proposer = new MetadataProposer(options.operationTimeoutMs, context);
    this.actors = options.metadataBrokerCount === 0 ? [] : this.createActors();
    this.brokers = this.actors.filter((actor) => actor instanceof SimBroker);
    this.actors.forEach((actor, slot) => context.schedule(actor.delayMs(context.random), { type: 'metadataWake', actor: slot }));
  }

  /** More clients of the controller (the replication workload's), woken like the others. */
  addActors(actors: readonly MetadataActor[]): void {
    for (const actor of actors) {
      const slot = this.actors.push(actor) - 1;
      this.context.schedule(actor.delayMs(this.context.random), { type: 'metadataWake', actor: slot });
    }
  }

  handle(event: MetadataEvent): void {
    if (event.type === 'metadataWake') this.wake(event.actor);
    else this.proposer.handle(event);
  }

  applied(nodeId: number, entry: Entry, outcome: AppliedOutcome | undefined): void {
    this.proposer.applied(nodeId, entry, outcome);
  }

  snapshotRestored(nodeId: number, index: number, term: number): void {
    this.proposer.snapshotRestored(nodeId, index, term);
  }

  nodeLost(nodeId: number, why: string): void {
    this.proposer.nodeLost(nodeId, why);
  }

  startLiveness(): void {
    this.liveness = true;
    this.proposer.startLiveness();
  }

  settled(): boolean {
    return this.actors.every((actor) => actor.livenessPending() === undefined);
  }

  describePending(): string {
    const actors = this.actors.flatMap((actor) => actor.livenessPending() ?? []);
    return [...actors, this.proposer.describePending()].filter((text) => text !== '').join('; ');
  }

  private createActors(): MetadataActor[] {
    const { random } = this.context;
    const brokers = Array.from({ length: this.options.metadataBrokerCount }, (_, offset) => new SimBroker(offset + 1, this.options, this.counters));
    const consumers = Array.from({ length: this.options.consumerCount }, (_, slot) => new SimConsumer(slot, `group-${slot % groupCount}`, random.chance(0.3)));
    const operator = new SimOperator(this.options.metadataBrokerCount, this.options.operatorIntervalMsMax);
    return [...brokers, operator, ...consumers, new ControllerDuty(this.options.controllerDutyIntervalMs, this.counters)];
  }

  private wake(slot: number): void {
    const actor = this.actors[slot];
    if (actor === undefined) throw new Error(`no metadata actor ${slot}`);
    // One wake chain per actor: a wake never finds its previous command in flight.
    if (this.proposer.busy(slot)) throw new Error(`${actor.name} woke with a command in flight`);
    const context = this.actorContext();
    const command = actor.next(context);
    if (command === undefined) {
      this.context.schedule(actor.delayMs(this.context.random), { type: 'metadataWake', actor: slot });
      return;
    }
    this.proposer.propose(slot, actor.name, command, (outcome) => this.settle(slot, actor, command, outcome));
  }

  private settle(slot: number, actor: MetadataActor, command: MetadataCommand, outcome: ProposalOutcome): void {
    if (outcome.kind === 'applied') {
      this.counters.commands++;
      if (!outcome.result.ok) this.counters.rejected++;
    }
    actor.settle(command, outcome, this.actorContext());
    this.context.schedule(actor.delayMs(this.context.random), { type: 'metadataWake', actor: slot });
  }

  private actorContext(): ActorContext {
    return {
      random: this.context.random,
      nowMs: this.context.now(),
      liveness: this.liveness,
      view: () => this.view(),
      leaderView: () => this.leaderView(),
    };
  }

  /** The Raft leader's metadata: what the controller has committed, as of now. */
  leaderView(): MetadataState | undefined {
    return this.context.leader()?.metadataView();
  }

  /** The leader's metadata, or in the safety phase now and then a random running node's, which may lag. */
  view(): MetadataState | undefined {
    const running = this.liveness ? [] : this.context.reachableHosts().filter((host) => host.running);
    if (running.length > 0 && this.context.random.chance(this.options.staleViewRate)) return this.context.random.pick(running).metadataView();
    return this.leaderView();
  }
}
