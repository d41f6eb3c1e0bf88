import { type Actor, createActor, type SnapshotFrom } from 'xstate';
import { TributaryError } from '../../errors/index.js';
import type { Logger } from '../../observability/index.js';
import { assertSupervisorOptions } from './assert-supervisor-options.js';
import { type ChildLifecycleEmitted, childLifecycleMachine } from './child-lifecycle-machine.js';
import type { ChildSpec, RestartPolicy } from './child-spec.js';
import { RestartIntensity } from './restart-intensity.js';
import type { SupervisedChild } from './supervised-child.js';
import { toError } from './to-error.js';
import type { SupervisorOptions } from './supervisor-options.js';
import { xstateClockOf } from '../xstate-clock.js';

type ChildActor = Actor<typeof childLifecycleMachine>;
type ChildSnapshot = SnapshotFrom<typeof childLifecycleMachine>;

/** One row of `children()`: a child the supervisor currently holds. */
export interface ChildStatus {
  readonly id: string;
  /** starting | running | backing-off | stopping: children that ended for good are forgotten. */
  readonly state: string;
  readonly restarts: number;
}

interface ChildEntry {
  readonly actor: ChildActor;
  /** Resolves once the child's machine has ended, whichever way. */
  readonly ended: Promise<void>;
}

const restartPolicies: readonly RestartPolicy[] = ['permanent', 'transient', 'temporary'];

/**
 * An Erlang/OTP one-for-one supervisor for a node's long-lived components (docs/SUPERVISION.md).
 * Each child's lifecycle is an xstate machine (child-lifecycle-machine.ts) on the injected clock;
 * this class owns what spans children: the restart intensity, the start order (children stop in
 * reverse), the bound on children, and escalation. When more than restartsMax restarts happen
 * within restartWindowMs it stops every child and itself, THEN calls onEscalate, and its
 * `asChild().done` rejects, so a parent supervisor sees the escalation as that child's crash.
 */
export class NodeSupervisor {
  private readonly entries = new Map<string, ChildEntry>();
  private readonly intensity: RestartIntensity;
  private readonly logger: Logger;
  private readonly clockForMachines: ReturnType<typeof xstateClockOf>;
  private shutdown: Promise<void> | undefined;
  private escalation: Error | undefined;
  private readonly done: Promise<void>;
  private settleDone: (error: Error | undefined) => void = () => undefined;

  private constructor(private readonly options: SupervisorOptions) {
    this.intensity = new RestartIntensity(options.restartsMax, options.restartWindowMs);
    this.logger = options.logger.child({ supervisor: options.name });
    this.clockForMachines = xstateClockOf(options.clock);
    this.done = new Promise<void>((resolve, reject) => {
      this.settleDone = (error) => (error === undefined ? resolve() : reject(error));
    });
    // A supervisor nobody nests still rejects `done` when it escalates; onEscalate reports that.
    this.done.catch(() => undefined);
  }

  /**
   * Validates the options, then starts `children` one after the other, in order: each start has
   * settled (see startChild) before the next begins, so a later child may rely on an earlier one.
   * Rejects, after stopping what it started, when a child is refused or the supervisor escalated
   * before all were started.
   */
  static async start(options: SupervisorOptions, children: readonly ChildSpec[] = []): Promise<NodeSupervisor> {
    assertSupervisorOptions(options);
    const supervisor = new NodeSupervisor(options);
    try {
      for (const spec of children) await supervisor.startChild(spec);
    } catch (error) {
      await supervisor.stop();
      throw error;
    }
    return supervisor;
  }

  /**
   * Adds a child and starts it. Resolves once its first start has settled: the child runs, or its
   * start failed and was handled as a crash (a restart is scheduled, or its policy ended it).
   * Refuses a duplicate id, a child beyond childrenMax (RESOURCE_EXHAUSTED) and any child once
   * the supervisor is stopping (SHUTTING_DOWN).
   */
  async startChild(spec: ChildSpec): Promise<void> {
    this.assertAccepting(spec);
    const actor = createActor(childLifecycleMachine, {
      input: { spec, backoff: this.options, clock: this.options.clock, restartWindowMs: this.options.restartWindowMs, stopTimeoutMs: this.options.stopTimeoutMs },
      clock: this.clockForMachines,
    });
    const ended = this.watch(spec.id, actor);
    this.entries.set(spec.id, { actor, ended });
    actor.start();
    this.logger.debug({ child: spec.id, restart: spec.restart }, 'child added');
    await firstStartSettled(actor);
  }

  /**
   * Stops a child and forgets it: it is not restarted. An id the supervisor does not hold (never
   * added, or a child that already ended for good and was forgotten) is a no-op, so stopping
   * cannot race a child's own end.
   */
  async stopChild(id: string): Promise<void> {
    const entry = this.entries.get(id);
    if (entry === undefined) return;
    entry.actor.send({ type: 'STOP' });
    await entry.ended;
  }

  /** The children held now, in start order, with their state and restarts so far. */
  children(): readonly ChildStatus[] {
    return [...this.entries].map(([id, { actor }]) => {
      const snapshot = actor.getSnapshot();
      return { id, state: stateName(snapshot), restarts: snapshot.context.restarts };
    });
  }

  /** Stops every child, last started first, then itself. Idempotent: every call gets the same promise. */
  stop(): Promise<void> {
    return this.stopAll(undefined);
  }

  /** This supervisor as a child of another one: its escalation is that child's crash. */
  asChild(): SupervisedChild {
    return { done: this.done, stop: () => this.stop() };
  }

  private assertAccepting(spec: ChildSpec): void {
    const { name, childrenMax } = this.options;
    if (this.shutdown !== undefined) {
      const why = this.escalation === undefined ? 'it is stopping' : `it escalated: ${this.escalation.message}`;
      throw new TributaryError('SHUTTING_DOWN', `supervisor "${name}" cannot start child "${spec.id}": ${why}`, { cause: this.escalation });
    }
    if (typeof spec.id !== 'string' || spec.id.length === 0) throw new TypeError(`supervisor "${name}": a child id must be a non-empty string, got ${JSON.stringify(spec.id)}`);
    if (!restartPolicies.includes(spec.restart)) {
      throw new TypeError(`supervisor "${name}": child "${spec.id}" has restart ${JSON.stringify(spec.restart)}; use one of ${restartPolicies.join(', ')}`);
    }
    if (this.entries.has(spec.id)) {
      throw new TributaryError('INVALID_REQUEST', `supervisor "${name}" already has a child "${spec.id}"; stop it first or choose another id`);
    }
    if (this.entries.size >= childrenMax) {
      throw new TributaryError('RESOURCE_EXHAUSTED', `supervisor "${name}" holds ${this.entries.size} children, its childrenMax; child "${spec.id}" was not started`);
    }
  }

  /** Subscribes to a child's machine; the returned promise resolves when the machine has ended. */
  private watch(id: string, actor: ChildActor): Promise<void> {
    actor.on('restart-scheduled', (event) => this.onRestartScheduled(id, event));
    actor.on('abandoned', (event) => this.logger.warn({ child: id, phase: event.phase, stopTimeoutMs: event.stopTimeoutMs }, `child did not finish ${event.phase} in time; abandoned`));
    actor.on('stop-failed', (event) => this.logger.warn({ child: id, err: event.error }, 'child failed to stop cleanly'));
    return new Promise<void>((resolve) => {
      actor.subscribe({
        next: (snapshot) => {
          if (snapshot.status !== 'done') return;
          this.forget(id, actor);
          this.logEnd(id, snapshot);
          resolve();
        },
        // Only a bug in the machine gets here (xstate: always subscribe to errors at the root).
        error: (error) => {
          this.forget(id, actor);
          this.logger.error({ child: id, err: error }, 'child lifecycle machine failed');
          if (this.shutdown === undefined) void this.escalate(id, toError(error));
          resolve();
        },
      });
    });
  }

  private forget(id: string, actor: ChildActor): void {
    if (this.entries.get(id)?.actor === actor) this.entries.delete(id);
  }

  private logEnd(id: string, snapshot: ChildSnapshot): void {
    if (snapshot.value === 'failed') this.logger.error({ child: id, err: snapshot.context.lastCrash }, 'child crashed; its restart policy does not restart it');
    else this.logger.info({ child: id }, 'child stopped');
  }

  /** Counts the restart against the intensity; one too many escalates. Restarts during a stop do not count. */
  private onRestartScheduled(id: string, event: Extract<ChildLifecycleEmitted, { type: 'restart-scheduled' }>): void {
    if (this.shutdown !== undefined) return;
    const admitted = this.intensity.admit(this.options.clock.nowMs());
    const fields = { child: id, err: event.crash, delayMs: event.delayMs, restartsInWindow: this.intensity.restartsInWindow() };
    this.logger.warn(fields, admitted ? 'child ended; restarting after backoff' : 'child ended; restart intensity exceeded');
    if (!admitted) void this.escalate(id, event.crash);
  }

  private async escalate(id: string, crash: Error): Promise<void> {
    const { name, restartsMax, restartWindowMs } = this.options;
    const error = new Error(
      `supervisor "${name}" gave up: more than ${restartsMax} restarts within ${restartWindowMs} ms; the last was child "${id}", after: ${crash.message}`,
      { cause: crash },
    );
    this.escalation = error;
    this.logger.error({ err: error, child: id }, 'supervisor escalates');
    await this.stopAll(error);
    try {
      this.options.onEscalate(error);
    } catch (callbackError) {
      this.logger.error({ err: callbackError }, 'onEscalate threw');
    }
  }

  private stopAll(escalation: Error | undefined): Promise<void> {
    this.shutdown ??= (async () => {
      for (const [id, entry] of [...this.entries].reverse()) {
        this.logger.debug({ child: id }, 'stopping child');
        entry.actor.send({ type: 'STOP' });
        await entry.ended;
      }
      this.logger.info({ escalated: escalation !== undefined }, 'supervisor stopped');
      this.settleDone(escalation);
    })();
    return this.shutdown;
  }
}

/** The top-level state: `starting` has substates that children() does not need to show. */
function stateName(snapshot: ChildSnapshot): string {
  return typeof snapshot.value === 'string' ? snapshot.value : Object.keys(snapshot.value).join('');
}

/** Resolves once the machine has left its first start attempt (or ended). */
function firstStartSettled(actor: ChildActor): Promise<void> {
  return new Promise<void>((resolve) => {
    const settled = (snapshot: ChildSnapshot) => snapshot.status !== 'active' || !snapshot.matches({ starting: 'attempting' });
    if (settled(actor.getSnapshot())) return resolve();
    const subscription = actor.subscribe({
      next: (snapshot) => {
        if (!settled(snapshot)) return;
        subscription.unsubscribe();
        resolve();
      },
      error: () => resolve(),
    });
  });
}

