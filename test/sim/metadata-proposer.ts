import type { MetadataCommand, MetadataCommandResult } from '../../src/controller/index.js';
import { TributaryError } from '../../src/errors/index.js';
import type { Entry } from '../../src/raft/raft-types.js';
import { describeMetadataCommand } from './describe-metadata-command.js';
import { encodeMetadataEntry } from './metadata-entry.js';
import type { Prng } from './prng.js';
import { attemptsPerOperationMax, retryDelayMsMax } from './sim-clients.js';
import type { SimHost } from './sim-host.js';
import type { AppliedOutcome } from './sim-state-machine.js';
import type { Trace } from './trace.js';

export type ProposerEvent =
  | { readonly type: 'metadataRetry'; readonly actor: number; readonly token: number }
  | { readonly type: 'metadataTimeout'; readonly actor: number; readonly token: number };

/** How a proposal ended: applied (accepted or rejected by the state machine), or not known to be. */
export type ProposalOutcome =
  | { readonly kind: 'applied'; readonly result: MetadataCommandResult<unknown> }
  /** Certainly not applied (another entry took its place), or never accepted by a leader. */
  | { readonly kind: 'lost' | 'gaveUp'; readonly why: string }
  /** May or may not be applied: the node crashed, a snapshot covered it, or it timed out. */
  | { readonly kind: 'unknown'; readonly why: string };

export interface ProposerContext {
  readonly random: Prng;
  readonly trace: Trace;
  readonly now: () => number;
  readonly schedule: (delayMs: number, event: ProposerEvent) => void;
  /** Hosts that may be asked: running or not, never removed ones. */
  readonly reachableHosts: () => SimHost[];
  readonly host: (nodeId: number) => SimHost | undefined;
}

interface Pending {
  readonly proposalId: number;
  /** Who proposes it, for the trace. */
  readonly actorName: string;
  readonly command: MetadataCommand;
  readonly settle: (outcome: ProposalOutcome) => void;
  /** Bumped on every attempt, so a timeout or retry of an earlier attempt is ignored. */
  token: number;
  attempts: number;
  ticket: { nodeId: number; index: number; term: number } | undefined;
}

/**
 * Proposes metadata commands through Raft the way the key-value clients propose writes: to the
 * node believed to lead, following NOT_LEADER hints with bounded retries and backoff. A command is
 * settled by the entry applied at its ticket's index on the node that accepted it: the same term
 * means it is the command and carries its result; another term, or a later term applied before
 * it, means it was lost. A crash, a snapshot over the index or a timeout leaves it unknown.
 * Each actor (a broker, the operator, a consumer, the controller duty) has one command in flight.
 */
export class MetadataProposer {
  private readonly pending = new Map<number, Pending>();
  private proposalIdNext = 1;
  private leaderHint = 0;
  private liveness = false;
  /** Applies that happened inside a propose call, before its ticket was known. */
  private proposing: { nodeId: number; buffered: Array<{ entry: Entry; outcome: AppliedOutcome | undefined }> } | undefined;

  constructor(
    private readonly operationTimeoutMs: number,
    private readonly context: ProposerContext,
  ) {}

  /** From now on proposals are retried without bound and never time out: they must resolve. */
  startLiveness(): void {
    this.liveness = true;
  }

  busy(actor: number): boolean {
    return this.pending.has(actor);
  }

  /** Settles through `settle`, called from an event or an apply: it must only schedule, never propose. */
  propose(actor: number, actorName: string, command: MetadataCommand, settle: (outcome: ProposalOutcome) => void): void {
    if (this.pending.has(actor)) throw new Error(`${actorName} already has a command in flight`);
    const pending: Pending = { proposalId: this.proposalIdNext++, actorName, command, settle, token: 0, attempts: 0, ticket: undefined };
    this.pending.set(actor, pending);
    this.attempt(actor, pending);
  }

  handle(event: ProposerEvent): void {
    const pending = this.pending.get(event.actor);
    if (pending?.token !== event.token) return; // about an earlier attempt
    if (event.type === 'metadataRetry') this.attempt(event.actor, pending);
    else if (!this.liveness) this.finish(event.actor, { kind: 'unknown', why: 'timed out' });
  }

  applied(nodeId: number, entry: Entry, outcome: AppliedOutcome | undefined): void {
    if (this.proposing?.nodeId === nodeId) {
      this.proposing.buffered.push({ entry, outcome });
      return;
    }
    for (const [actor, pending] of this.pending) {
      const ticket = pending.ticket;
      if (ticket?.nodeId !== nodeId) continue;
      if (ticket.index === entry.index) this.settleAt(actor, pending, entry, outcome);
      else if (entry.index < ticket.index && entry.term > ticket.term) this.finish(actor, { kind: 'lost', why: `entry ${entry.term}/${entry.index} was committed before it` });
    }
  }

  snapshotRestored(nodeId: number, index: number, term: number): void {
    for (const [actor, pending] of this.pending) {
      const ticket = pending.ticket;
      if (ticket?.nodeId !== nodeId) continue;
      if (ticket.index <= index) this.finish(actor, { kind: 'unknown', why: 'a snapshot covered its entry' });
      else if (term > ticket.term) this.finish(actor, { kind: 'lost', why: `snapshot ${term}/${index} was committed before it` });
    }
  }

  nodeLost(nodeId: number, why: string): void {
    for (const [actor, pending] of this.pending) if (pending.ticket?.nodeId === nodeId) this.finish(actor, { kind: 'unknown', why });
  }

  describePending(): string {
    return [...this.pending.values()].map((pending) => `${pending.actorName}: ${pending.command.type} attempt ${pending.attempts}${pending.ticket === undefined ? '' : ` at ${pending.ticket.term}/${pending.ticket.index} on node ${pending.ticket.nodeId}`}`).join('; ');
  }

  private attempt(actor: number, pending: Pending): void {
    pending.attempts++;
    pending.token++;
    if (!this.liveness && pending.attempts > attemptsPerOperationMax) {
      this.finish(actor, { kind: 'gaveUp', why: `no leader accepted it in ${attemptsPerOperationMax} attempts` });
      return;
    }
    const host = this.target();
    if (host?.running !== true) {
      this.leaderHint = 0; // a node that is down leads nothing: ask another next time
      this.retryLater(actor, pending);
      return;
    }
    this.proposing = { nodeId: host.id, buffered: [] };
    try {
      const { index, term } = host.propose(encodeMetadataEntry(pending.proposalId, pending.command));
      pending.ticket = { nodeId: host.id, index, term };
      this.context.trace.log(this.context.now(), () => `${pending.actorName} proposed ${describeMetadataCommand(pending.command)} at node ${host.id} as ${term}/${index}`);
    } catch (error) {
      if (!(error instanceof TributaryError)) throw error;
      this.leaderHint = error.leaderHint?.nodeId ?? 0;
      this.retryLater(actor, pending);
      return;
    } finally {
      const buffered = this.proposing.buffered;
      this.proposing = undefined;
      for (const { entry, outcome } of buffered) this.applied(host.id, entry, outcome);
    }
    if (this.pending.get(actor) === pending) this.context.schedule(this.operationTimeoutMs, { type: 'metadataTimeout', actor, token: pending.token });
  }

  private settleAt(actor: number, pending: Pending, entry: Entry, outcome: AppliedOutcome | undefined): void {
    if (entry.term !== pending.ticket?.term) {
      this.finish(actor, { kind: 'lost', why: `entry ${entry.index} has term ${entry.term}` });
      return;
    }
    if (outcome?.kind !== 'metadata' || outcome.proposalId !== pending.proposalId) {
      throw new Error(`entry ${entry.term}/${entry.index} applied on node ${pending.ticket.nodeId} is not metadata proposal ${pending.proposalId}`);
    }
    this.finish(actor, { kind: 'applied', result: outcome.result });
  }

  private finish(actor: number, outcome: ProposalOutcome): void {
    const pending = this.pending.get(actor);
    if (pending === undefined) return;
    this.pending.delete(actor);
    this.context.trace.log(this.context.now(), () => `${pending.actorName} ${pending.command.type} ${describeOutcome(outcome)}`);
    pending.settle(outcome);
  }

  private retryLater(actor: number, pending: Pending): void {
    pending.token++;
    this.context.schedule(this.context.random.range(1, retryDelayMsMax), { type: 'metadataRetry', actor, token: pending.token });
  }

  private target(): SimHost | undefined {
    const hosts = this.context.reachableHosts();
    const hinted = this.leaderHint === 0 ? undefined : this.context.host(this.leaderHint);
    if (hinted !== undefined && hosts.includes(hinted)) return hinted;
    return hosts.length === 0 ? undefined : this.context.random.pick(hosts);
  }
}

function describeOutcome(outcome: ProposalOutcome): string {
  if (outcome.kind !== 'applied') return `${outcome.kind}: ${outcome.why}`;
  return outcome.result.ok ? 'applied' : `rejected ${outcome.result.code}: ${outcome.result.message}`;
}
