import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { deviceSessionMachine, type DeviceSessionEffects } from '../../../src/actors/device-session/device-session-machine.js';
import { xstateClockOf } from '../../../src/actors/xstate-clock.js';
import { TributaryError } from '../../../src/errors/index.js';
import type { SessionState } from '../../../src/ingest/ingest-types.js';
import { ManualClock } from '../../support/manual-clock.js';

/**
 * A session as the actor sees it through its effects, with what the partition would do: expiring
 * or completing stores an end record that then commits. The test moves its state as commits would.
 */
class SessionUnderTest implements DeviceSessionEffects {
  current: SessionState = 'open';
  expiryMs: number;
  leading = true;
  readonly calls: string[] = [];
  completeFailures = 0;

  constructor(private readonly clock: ManualClock, idleMs: number) {
    this.expiryMs = clock.nowMs() + idleMs;
  }

  state(): SessionState {
    if (!this.leading) throw new TributaryError('NOT_LEADER', 'the leadership ended');
    return this.current;
  }

  expiresAtMs(): number {
    return this.expiryMs;
  }

  nowMs(): number {
    return this.clock.nowMs();
  }

  complete(): Promise<void> {
    this.calls.push(`complete@${this.clock.nowMs()}`);
    if (this.completeFailures > 0) {
      this.completeFailures -= 1;
      return Promise.reject(new TributaryError('NOT_AVAILABLE', 'the controller is not reachable', { retriable: true }));
    }
    this.current = 'complete';
    return Promise.resolve();
  }

  expire(): Promise<void> {
    this.calls.push(`expire@${this.clock.nowMs()}`);
    this.current = 'expired';
    return Promise.resolve();
  }

  recordProgress(): Promise<void> {
    this.calls.push(`progress@${this.clock.nowMs()}`);
    return Promise.resolve();
  }
}

const timings = { progressIntervalMs: 5_000, retryDelayMs: 1_000 };

function start(session: SessionUnderTest, clock: ManualClock) {
  const actor = createActor(deviceSessionMachine, { input: { effects: session, timings }, clock: xstateClockOf(clock) });
  actor.start();
  return actor;
}

describe('device-session actor', () => {
  it('expires a session when its idle time passes with nothing committed, and not a moment before', async () => {
    const clock = new ManualClock(1_000);
    const session = new SessionUnderTest(clock, 3_000);
    const actor = start(session, clock);
    expect(actor.getSnapshot().value).toBe('open');
    await clock.advance(2_999);
    expect(session.calls.filter((call) => call.startsWith('expire'))).toEqual([]);
    await clock.advance(1);
    expect(session.calls.filter((call) => call.startsWith('expire'))).toEqual(['expire@4000']);
    expect(actor.getSnapshot().value).toBe('expired');
    expect(actor.getSnapshot().status).toBe('done');
  });

  it('re-arms the expiry at every commit, so a session receiving chunks never expires', async () => {
    const clock = new ManualClock(0);
    const session = new SessionUnderTest(clock, 3_000);
    const actor = start(session, clock);
    for (let step = 0; step < 5; step += 1) {
      await clock.advance(2_000);
      session.current = 'receiving';
      session.expiryMs = clock.nowMs() + 3_000;
      actor.send({ type: 'changed' });
    }
    expect(actor.getSnapshot().value).toBe('receiving');
    expect(session.calls.some((call) => call.startsWith('expire'))).toBe(false);
    await clock.advance(3_000);
    expect(actor.getSnapshot().value).toBe('expired');
  });

  it('completes a committing session, retrying a failed completion after its delay', async () => {
    const clock = new ManualClock(0);
    const session = new SessionUnderTest(clock, 60_000);
    session.completeFailures = 2;
    const actor = start(session, clock);
    session.current = 'committing';
    actor.send({ type: 'changed' });
    await clock.advance(0);
    await clock.advance(2_500);
    expect(session.calls.filter((call) => call.startsWith('complete'))).toEqual(['complete@0', 'complete@1000', 'complete@2000']);
    expect(actor.getSnapshot().value).toBe('complete');
    expect(actor.getSnapshot().status).toBe('done');
  });

  it('records progress at most once per interval, and only after something committed', async () => {
    const clock = new ManualClock(0);
    const session = new SessionUnderTest(clock, 600_000);
    const actor = start(session, clock);
    await clock.advance(10_000);
    expect(session.calls).toEqual([]);
    session.current = 'receiving';
    for (let commit = 0; commit < 10; commit += 1) actor.send({ type: 'changed' });
    await clock.advance(5_000);
    expect(session.calls).toEqual(['progress@15000']);
    await clock.advance(5_000);
    expect(session.calls).toEqual(['progress@15000']);
  });

  it('ends as released once its partition is no longer led here, whatever its timers say', () => {
    const clock = new ManualClock(0);
    const session = new SessionUnderTest(clock, 600_000);
    const actor = start(session, clock);
    session.leading = false;
    actor.send({ type: 'changed' });
    expect(actor.getSnapshot().value).toBe('released');
    expect(actor.getSnapshot().status).toBe('done');
    expect(clock.pendingTimers()).toBe(0);
  });

  it('follows an end record another path stored: terminated and failed sessions end their actor', () => {
    for (const ended of ['terminated', 'failed'] as const) {
      const clock = new ManualClock(0);
      const session = new SessionUnderTest(clock, 600_000);
      const actor = start(session, clock);
      session.current = ended;
      actor.send({ type: 'changed' });
      expect(actor.getSnapshot().value).toBe(ended);
      expect(session.calls).toEqual([]);
    }
  });
});
