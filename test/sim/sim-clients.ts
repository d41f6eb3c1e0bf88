import { TributaryError } from '../../src/errors/index.js';
import type { Entry } from '../../src/raft/raft-types.js';
import type { ClientHistory } from './client-history.js';
import { encodeKvProposal, type KvProposal } from './kv-state-machine.js';
import type { KvInput } from './linearizability/kv-model.js';
import type { Prng } from './prng.js';
import type { SimHost } from './sim-host.js';
import type { Trace } from './trace.js';

/** Attempts (NOT_LEADER redirects, unreachable nodes) per operation in the safety phase. */
export const attemptsPerOperationMax = 10;
/** Backoff before retrying against the leader hint or another node. */
export const retryDelayMsMax = 30;

export type ClientEvent =
  | { readonly type: 'clientWake'; readonly client: number }
  | { readonly type: 'clientTimeout'; readonly client: number; readonly token: number }
  | { readonly type: 'clientRetry'; readonly client: number; readonly token: number };

export interface ClientsContext {
  readonly random: Prng;
  readonly history: ClientHistory;
  readonly trace: Trace;
  readonly now: () => number;
  readonly schedule: (delayMs: number, event: ClientEvent) => void;
  /** Hosts clients may talk to: running or not, never removed ones. */
  readonly reachableHosts: () => SimHost[];
  readonly host: (nodeId: number) => SimHost | undefined;
  /** A client was told its write succeeded at this entry. */
  readonly acknowledged: (nodeId: number, index: number, term: number) => void;
}

export interface ClientOptions {
  readonly clientCount: number;
  readonly keyCount: number;
  readonly operationIntervalMsMax: number;
  readonly readRate: number;
  readonly appendRate: number;
  readonly operationTimeoutMs: number;
  /** The client bug 'staleRead': serve gets from the contacted node's state machine, skipping ReadIndex. */
  readonly staleReads: boolean;
}

interface Operation {
  readonly historyId: number;
  readonly input: KvInput;
  readonly startedInLiveness: boolean;
  /** Bumped on every attempt, so a timeout of an earlier attempt is ignored. */
  token: number;
  attempts: number;
  ticket: { nodeId: number; index: number; term: number } | undefined;
  read: { nodeId: number; readId: number } | undefined;
}

interface Client {
  readonly slot: number;
  /** The history's client id; a client whose operation's outcome is unknown continues as a new one. */
  processId: number;
  sequence: number;
  leaderHint: number;
  operation: Operation | undefined;
  livenessWrites: number;
  livenessReads: number;
}

/**
 * The clients of the key-value store. Each runs one operation at a time: writes are proposed to the
 * node it believes leads (redirected by NOT_LEADER hints) and succeed only when an entry with the
 * ticket's index AND term is applied on that node; an entry of another term there means the write
 * was lost for sure; a crash, a timeout or a snapshot over the index leaves the outcome unknown.
 * Reads go through ReadIndex and return once the node has applied up to the read index.
 */
export class SimClients {
  private readonly clients: Client[] = [];
  private readonly readOwners = new Map<number, number>();
  private processIdNext = 1;
  private readIdNext = 1;
  private liveness = false;
  /** Applies that happened inside a propose call, before its ticket was known. */
  private proposing: { nodeId: number; buffered: Array<{ entry: Entry; proposal: KvProposal | undefined }> } | undefined;

  constructor(
    private readonly options: ClientOptions,
    private readonly context: ClientsContext,
  ) {
    for (let slot = 0; slot < options.clientCount; slot++) {
      this.clients.push({ slot, processId: this.processIdNext++, sequence: 0, leaderHint: 0, operation: undefined, livenessWrites: 0, livenessReads: 0 });
      context.schedule(context.random.range(0, options.operationIntervalMsMax), { type: 'clientWake', client: slot });
    }
  }

  /** From now on operations are not abandoned on timeout: they must complete. */
  startLiveness(): void {
    this.liveness = true;
    for (const client of this.clients) {
      if (client.operation === undefined) this.context.schedule(0, { type: 'clientWake', client: client.slot });
    }
  }

  /** Every client finished a write and a read begun after healing, and nothing is pending. */
  settled(): boolean {
    return this.clients.every((client) => client.operation === undefined && client.livenessWrites > 0 && client.livenessReads > 0);
  }

  describePending(): string {
    return this.clients
      .map((client) => {
        const operation = client.operation;
        const state = operation === undefined ? 'idle' : `${operation.input.kind} ${describeWhere(operation)}`;
        return `client ${client.slot}: ${state}, liveness writes ${client.livenessWrites} reads ${client.livenessReads}`;
      })
      .join('; ');
  }

  handle(event: ClientEvent): void {
    const client = this.clients[event.client];
    if (client === undefined) throw new Error(`no client ${event.client}`);
    if (event.type === 'clientWake') this.wake(client);
    else if (client.operation?.token !== event.token) return; // about an earlier attempt
    else if (event.type === 'clientTimeout') this.timeout(client, client.operation);
    else this.attempt(client, client.operation);
  }

  /**
   * An entry was applied on `nodeId`: it may settle a write proposed there. The write is lost for
   * sure when another entry is applied at its index, or when an entry of a later term is applied
   * before its index (a log holding the write would hold an entry of its term or older there).
   */
  applied(nodeId: number, entry: Entry, proposal: KvProposal | undefined): void {
    if (this.proposing?.nodeId === nodeId) {
      this.proposing.buffered.push({ entry, proposal });
      return;
    }
    for (const client of this.clients) {
      const operation = client.operation;
      const ticket = operation?.ticket;
      if (operation === undefined || ticket === undefined || ticket.nodeId !== nodeId) continue;
      if (ticket.index === entry.index) this.settleWrite(client, operation, entry, proposal);
      else if (entry.index < ticket.index && entry.term > ticket.term) this.lost(client, operation, `entry ${entry.term}/${entry.index} was committed before it`);
    }
  }

  /** A snapshot replaced the state machine of `nodeId`; writes it covers there have unknown outcomes. */
  snapshotRestored(nodeId: number, index: number, term: number): void {
    for (const client of this.clients) {
      const operation = client.operation;
      const ticket = operation?.ticket;
      if (operation === undefined || ticket === undefined || ticket.nodeId !== nodeId) continue;
      if (ticket.index <= index) this.unknown(client, 'a snapshot covered its entry');
      else if (term > ticket.term) this.lost(client, operation, `snapshot ${term}/${index} was committed before it`);
    }
  }

  /** The node lost its memory: writes waiting there are unknown, reads are retried. */
  nodeLost(nodeId: number, why: string): void {
    for (const client of this.clients) {
      const operation = client.operation;
      if (operation?.ticket?.nodeId === nodeId) this.unknown(client, why);
      else if (operation?.read?.nodeId === nodeId) this.retryRead(client, operation, why);
    }
  }

  readReady(nodeId: number, context: Uint8Array): void {
    const readId = decodeReadContext(context);
    const slot = this.readOwners.get(readId);
    this.readOwners.delete(readId);
    const client = slot === undefined ? undefined : this.clients[slot];
    const operation = client?.operation;
    if (client === undefined || operation?.read?.readId !== readId || operation.input.kind !== 'get') return;
    this.serveRead(client, operation, this.context.host(nodeId) as SimHost, operation.input.key);
  }

  private serveRead(client: Client, operation: Operation, host: SimHost, key: string): void {
    const value = host.read(key);
    this.context.history.complete(operation.historyId, value, this.context.now());
    this.context.trace.log(this.context.now(), () => `client ${client.slot} get ${key} = ${JSON.stringify(value)} via node ${host.id}`);
    if (operation.startedInLiveness) client.livenessReads++;
    this.finish(client);
  }

  private wake(client: Client): void {
    if (client.operation !== undefined) return;
    if (this.liveness && client.livenessWrites > 0 && client.livenessReads > 0) return;
    const input = this.nextInput(client);
    const historyId = this.context.history.invoke(client.processId, input, this.context.now());
    client.operation = { historyId, input, startedInLiveness: this.liveness, token: 0, attempts: 0, ticket: undefined, read: undefined };
    this.attempt(client, client.operation);
  }

  private nextInput(client: Client): KvInput {
    const random = this.context.random;
    const key = `k${random.nextInt(this.options.keyCount)}`;
    const wantRead = this.liveness ? client.livenessWrites > 0 : random.chance(this.options.readRate);
    if (wantRead) return { kind: 'get', key };
    client.sequence++;
    const value = `${client.slot}.${client.sequence} `;
    return random.chance(this.options.appendRate) ? { kind: 'append', key, value } : { kind: 'put', key, value };
  }

  private attempt(client: Client, operation: Operation): void {
    operation.attempts++;
    operation.token++;
    if (!this.liveness && operation.attempts > attemptsPerOperationMax) {
      this.context.history.discard(operation.historyId);
      this.context.trace.log(this.context.now(), () => `client ${client.slot} ${operation.input.kind} gave up after ${attemptsPerOperationMax} attempts`);
      this.finish(client);
      return;
    }
    const host = this.target(client);
    if (host === undefined || !host.running) {
      this.retryLater(client, operation, `node ${host?.id ?? '-'} is unreachable`);
      return;
    }
    if (operation.input.kind === 'get') this.startRead(client, operation, host);
    else this.propose(client, operation, operation.input, host);
  }

  private propose(client: Client, operation: Operation, input: KvProposal['input'], host: SimHost): void {
    const data = encodeKvProposal({ clientId: client.processId, operationId: operation.historyId, input });
    this.proposing = { nodeId: host.id, buffered: [] };
    try {
      const { index, term } = host.propose(data);
      operation.ticket = { nodeId: host.id, index, term };
      this.context.trace.log(this.context.now(), () => `client ${client.slot} ${input.kind} ${input.key} ${JSON.stringify(input.value)} proposed at node ${host.id} as ${term}/${index}`);
    } catch (error) {
      if (!(error instanceof TributaryError)) throw error;
      client.leaderHint = error.leaderHint?.nodeId ?? 0;
      this.retryLater(client, operation, `node ${host.id} refused: ${error.code}`);
      return;
    } finally {
      const buffered = this.proposing.buffered;
      this.proposing = undefined;
      for (const { entry, proposal } of buffered) this.applied(host.id, entry, proposal);
    }
    this.context.schedule(this.options.operationTimeoutMs, { type: 'clientTimeout', client: client.slot, token: operation.token });
  }

  private startRead(client: Client, operation: Operation, host: SimHost): void {
    if (this.options.staleReads && operation.input.kind === 'get') {
      this.serveRead(client, operation, host, operation.input.key);
      return;
    }
    const readId = this.readIdNext++;
    operation.read = { nodeId: host.id, readId };
    this.readOwners.set(readId, client.slot);
    this.context.schedule(this.options.operationTimeoutMs, { type: 'clientTimeout', client: client.slot, token: operation.token });
    this.context.trace.log(this.context.now(), () => `client ${client.slot} get ${operation.input.key} read index at node ${host.id}`);
    try {
      host.readIndex(encodeReadContext(readId));
    } catch (error) {
      if (!(error instanceof TributaryError)) throw error;
      client.leaderHint = error.leaderHint?.nodeId ?? 0;
      this.retryRead(client, operation, `node ${host.id} refused: ${error.code}`);
    }
  }

  private settleWrite(client: Client, operation: Operation, entry: Entry, proposal: KvProposal | undefined): void {
    const ticket = operation.ticket as NonNullable<Operation['ticket']>;
    const now = this.context.now();
    if (entry.term !== ticket.term) {
      this.lost(client, operation, `entry ${entry.index} has term ${entry.term}, not ${ticket.term}`);
      return;
    }
    if (proposal?.clientId !== client.processId || proposal.operationId !== operation.historyId) {
      throw new Error(`entry ${ticket.term}/${ticket.index} applied on node ${ticket.nodeId} is not the proposal its ticket named`);
    }
    this.context.history.complete(operation.historyId, undefined, now);
    this.context.acknowledged(ticket.nodeId, ticket.index, ticket.term);
    this.context.trace.log(now, () => `client ${client.slot} ${operation.input.kind} ${operation.input.key} ok at ${ticket.term}/${ticket.index}`);
    if (operation.startedInLiveness) client.livenessWrites++;
    this.finish(client);
  }

  /** The write certainly did not take effect: it leaves the history. */
  private lost(client: Client, operation: Operation, why: string): void {
    this.context.history.discard(operation.historyId);
    this.context.trace.log(this.context.now(), () => `client ${client.slot} ${operation.input.kind} lost: ${why}`);
    this.finish(client);
  }

  private timeout(client: Client, operation: Operation): void {
    if (operation.read !== undefined) {
      this.retryRead(client, operation, 'read unanswered');
      return;
    }
    if (this.liveness) return; // A write accepted by a live node must now resolve on its own.
    this.unknown(client, 'timed out');
  }

  /** A read has no effect, so an unanswered one is simply asked again (elsewhere, perhaps). */
  private retryRead(client: Client, operation: Operation, why: string): void {
    if (operation.read !== undefined) this.readOwners.delete(operation.read.readId);
    operation.read = undefined;
    this.retryLater(client, operation, why);
  }

  private unknown(client: Client, why: string): void {
    const operation = client.operation as Operation;
    this.context.history.markUnknown(operation.historyId);
    this.context.trace.log(this.context.now(), () => `client ${client.slot} ${operation.input.kind} outcome unknown: ${why}`);
    client.processId = this.processIdNext++;
    this.finish(client);
  }

  private retryLater(client: Client, operation: Operation, why: string): void {
    operation.token++;
    const token = operation.token;
    this.context.trace.log(this.context.now(), () => `client ${client.slot} ${operation.input.kind} retry: ${why}`);
    this.context.schedule(this.context.random.range(1, retryDelayMsMax), { type: 'clientRetry', client: client.slot, token });
  }

  private finish(client: Client): void {
    client.operation = undefined;
    this.context.schedule(this.context.random.range(0, this.options.operationIntervalMsMax), { type: 'clientWake', client: client.slot });
  }

  private target(client: Client): SimHost | undefined {
    const hinted = client.leaderHint === 0 ? undefined : this.context.host(client.leaderHint);
    const hosts = this.context.reachableHosts();
    if (hinted !== undefined && hosts.includes(hinted)) return hinted;
    return hosts.length === 0 ? undefined : this.context.random.pick(hosts);
  }
}

function describeWhere(operation: Operation): string {
  if (operation.ticket !== undefined) return `waiting for ${operation.ticket.term}/${operation.ticket.index} on node ${operation.ticket.nodeId}`;
  if (operation.read !== undefined) return `waiting for read index on node ${operation.read.nodeId}`;
  return `retrying (attempt ${operation.attempts})`;
}

function encodeReadContext(readId: number): Uint8Array {
  const context = new Uint8Array(4);
  new DataView(context.buffer).setUint32(0, readId);
  return context;
}

function decodeReadContext(context: Uint8Array): number {
  return new DataView(context.buffer, context.byteOffset, context.byteLength).getUint32(0);
}
