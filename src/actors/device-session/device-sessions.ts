import { type Actor, createActor } from 'xstate';
import type { IngestPartition } from '../../ingest/ingest-partition.js';
import { terminalSessionStates } from '../../ingest/ingest-types.js';
import type { UploadSession } from '../../ingest/upload-session.js';
import type { Logger } from '../../observability/index.js';
import type { Clock } from '../clock.js';
import type { NodeSupervisor } from '../node-supervisor/node-supervisor.js';
import { xstateClockOf } from '../xstate-clock.js';
import { type DeviceSessionEffects, deviceSessionMachine, type DeviceSessionTimings } from './device-session-machine.js';

export interface DeviceSessionsOptions {
  /** The broker's `device-sessions` supervisor: each actor is one of its children. */
  readonly supervisor: NodeSupervisor;
  readonly clock: Clock;
  readonly timings: DeviceSessionTimings;
  readonly logger: Logger;
}

export const deviceSessionTimingsDefaults: DeviceSessionTimings = { progressIntervalMs: 5_000, retryDelayMs: 1_000 };

/** How long a leadership watch sleeps between looks when nothing changes: resignation wakes it sooner. */
const leadershipWatchMs = 60_000;

/**
 * The device-session actors of the ingest partitions this broker leads (DESIGN.md §8): one per
 * session that has not ended, a child of the broker's `device-sessions` supervisor, started when a
 * partition's leadership begins (after its replay) and when a session is created. Each hears of
 * its session's commits; when the leadership ends every actor of the partition is told, finds
 * the partition gone and ends (`released`).
 */
export class DeviceSessions {
  private readonly actors = new Map<string, Actor<typeof deviceSessionMachine>>();

  constructor(private readonly options: DeviceSessionsOptions) {}

  /** Sessions with a live actor here. */
  activeCount(): number {
    return this.actors.size;
  }

  /** Takes over the sessions of a partition whose leadership just began. */
  adopt(partition: IngestPartition): void {
    partition.onSessionChanged((session) => this.changed(partition, session));
    for (const session of partition.state.all()) this.ensure(partition, session);
    void this.watchLeadership(partition);
  }

  private changed(partition: IngestPartition, session: UploadSession): void {
    const actor = this.actors.get(this.idOf(partition, session));
    if (actor === undefined) this.ensure(partition, session);
    else actor.send({ type: 'changed' });
  }

  private ensure(partition: IngestPartition, session: UploadSession): void {
    const id = this.idOf(partition, session);
    if (this.actors.has(id) || terminalSessionStates.has(session.state(partition.log.highWatermark()))) return;
    const { supervisor, clock, timings, logger } = this.options;
    supervisor.startChild({
      id,
      restart: 'transient',
      start: () => Promise.resolve(this.startActor(id, partition, session, clock, timings)),
    }).catch((error: unknown) => logger.error({ err: error, session: session.where }, 'a device-session actor could not be started'));
  }

  private startActor(id: string, partition: IngestPartition, session: UploadSession, clock: Clock, timings: DeviceSessionTimings) {
    const actor = createActor(deviceSessionMachine, { input: { effects: this.effectsOf(partition, session), timings }, clock: xstateClockOf(clock) });
    this.actors.set(id, actor);
    const done = new Promise<void>((resolve, reject) => {
      actor.subscribe({
        complete: () => resolve(),
        error: (error: unknown) => reject(error instanceof Error ? error : new Error(String(error))),
      });
    }).finally(() => {
      if (this.actors.get(id) === actor) this.actors.delete(id);
    });
    actor.start();
    return {
      done,
      stop: () => {
        actor.stop();
        if (this.actors.get(id) === actor) this.actors.delete(id);
        return Promise.resolve();
      },
    };
  }

  private effectsOf(partition: IngestPartition, session: UploadSession): DeviceSessionEffects {
    const { clock } = this.options;
    return {
      state: () => {
        partition.log.assertLeading();
        return session.state(partition.log.highWatermark());
      },
      expiresAtMs: () => Math.min(session.declaration.expiresAtMs, session.lastActivityMs + session.declaration.idleTimeoutMs),
      nowMs: () => clock.nowMs(),
      complete: () => partition.complete(session),
      expire: () => partition.expire(session),
      recordProgress: () => partition.recordProgress(session),
    };
  }

  /** Tells the partition's actors once its leadership has ended, so they end instead of waiting out their timers. */
  private async watchLeadership(partition: IngestPartition): Promise<void> {
    const { log } = partition;
    const stop = new AbortController().signal;
    for (;;) {
      try {
        log.assertLeading();
      } catch {
        for (const session of partition.state.all()) this.actors.get(this.idOf(partition, session))?.send({ type: 'changed' });
        return;
      }
      await log.waitForChange(this.options.clock.nowMs() + leadershipWatchMs, stop);
    }
  }

  private idOf(partition: IngestPartition, session: UploadSession): string {
    return `session ${partition.log.partition}@${partition.log.leaderEpoch} ${session.declaration.deviceId}/${session.declaration.sessionId}`;
  }
}
