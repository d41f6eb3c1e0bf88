import { describe, expect, it } from 'vitest';
import { TributaryError } from '../../../src/errors/index.js';
import {
  type ChildSpec,
  NodeSupervisor,
  type RestartPolicy,
  type SupervisedChild,
  supervisorChildSpec,
  supervisorDefaults,
  type SupervisorOptions,
} from '../../../src/actors/node-supervisor/index.js';
import { captureLogger } from '../../support/log-capture.js';
import { ManualClock, settle } from '../../support/manual-clock.js';

/** One run of a scripted child: the test decides when it crashes or exits, and whether it stops. */
interface ChildRun extends SupervisedChild {
  crash(error: Error): void;
  exit(): void;
}

interface ChildScript {
  /** How many of the first starts reject. */
  readonly startsFailing?: number;
  /** stop() never settles: the child ignores it. */
  readonly ignoresStop?: boolean;
  /** start() waits for `releaseStart` of this script. */
  readonly startHeld?: boolean;
}

/**
 * Children whose every start, stop and end the test controls, recorded in `events` in the order
 * they happen (`start a`, `stop b`), across all children of a test.
 */
class ScriptedChildren {
  readonly events: string[] = [];
  private readonly runs = new Map<string, ChildRun[]>();
  private readonly heldStarts: Array<() => void> = [];

  spec(id: string, restart: RestartPolicy, script: ChildScript = {}): ChildSpec {
    let attempts = 0;
    return {
      id,
      restart,
      start: async () => {
        attempts++;
        this.events.push(`start ${id}`);
        if (script.startHeld === true) await new Promise<void>((resolve) => this.heldStarts.push(resolve));
        if (attempts <= (script.startsFailing ?? 0)) throw new Error(`start ${attempts} of ${id} failed`);
        const run = this.newRun(id, script.ignoresStop === true);
        this.runs.set(id, [...(this.runs.get(id) ?? []), run]);
        return run;
      },
    };
  }

  starts(id: string): number {
    return this.events.filter((event) => event === `start ${id}`).length;
  }

  stops(): string[] {
    return this.events.filter((event) => event.startsWith('stop '));
  }

  latest(id: string): ChildRun {
    const run = this.runs.get(id)?.at(-1);
    if (run === undefined) throw new Error(`child ${id} never ran`);
    return run;
  }

  releaseStarts(): void {
    for (const release of this.heldStarts.splice(0)) release();
  }

  private newRun(id: string, ignoresStop: boolean): ChildRun {
    let resolveDone: () => void = () => undefined;
    let rejectDone: (error: Error) => void = () => undefined;
    const done = new Promise<void>((resolve, reject) => {
      resolveDone = resolve;
      rejectDone = reject;
    });
    // A run that crashes after the supervisor stopped watching it must not fail the test process.
    done.catch(() => undefined);
    return {
      done,
      stop: () => {
        this.events.push(`stop ${id}`);
        return ignoresStop ? new Promise<void>(() => undefined) : Promise.resolve();
      },
      crash: (error) => rejectDone(error),
      exit: () => resolveDone(),
    };
  }
}

interface Harness {
  readonly clock: ManualClock;
  readonly scripted: ScriptedChildren;
  readonly escalations: Error[];
  readonly logLines: () => Array<Record<string, unknown>>;
  readonly options: SupervisorOptions;
}

function harness(overrides: Partial<SupervisorOptions> = {}): Harness {
  const clock = new ManualClock(1_000_000);
  const escalations: Error[] = [];
  const { logger, lines } = captureLogger();
  const options: SupervisorOptions = {
    ...supervisorDefaults,
    name: 'test-supervisor',
    clock,
    // No jitter unless a test asks for it: the top draw makes every delay exactly the doubling ceiling.
    random: { nextInt: (maxExclusive) => maxExclusive - 1 },
    logger,
    onEscalate: (error) => escalations.push(error),
    ...overrides,
  };
  return { clock, scripted: new ScriptedChildren(), escalations, logLines: lines, options };
}

/** The delay between a crash and the restart it causes, measured on the manual clock to the millisecond. */
async function restartDelayMs(h: Harness, id: string, boundMs: number): Promise<number> {
  const startsBefore = h.scripted.starts(id);
  h.scripted.latest(id).crash(new Error('boom'));
  await settle();
  for (let waitedMs = 0; waitedMs <= boundMs; waitedMs++) {
    if (h.scripted.starts(id) > startsBefore) return waitedMs;
    await h.clock.advance(1);
  }
  throw new Error(`child ${id} was not restarted within ${boundMs} ms`);
}

describe('node supervisor', () => {
  it('restarts a crashed permanent child after backoffMsMin', async () => {
    const h = harness({ backoffMsMin: 100 });
    const supervisor = await NodeSupervisor.start(h.options, [h.scripted.spec('a', 'permanent')]);
    h.scripted.latest('a').crash(new Error('boom'));
    await h.clock.advance(99);
    expect(h.scripted.starts('a')).toBe(1);
    expect(supervisor.children()).toEqual([{ id: 'a', state: 'backing-off', restarts: 0 }]);
    await h.clock.advance(1);
    expect(h.scripted.starts('a')).toBe(2);
    expect(supervisor.children()).toEqual([{ id: 'a', state: 'running', restarts: 1 }]);
  });

  it('doubles the backoff per consecutive crash and caps it at backoffMsMax', async () => {
    const h = harness({ backoffMsMin: 100, backoffMsMax: 500, restartsMax: 10 });
    await NodeSupervisor.start(h.options, [h.scripted.spec('a', 'permanent')]);
    const delaysMs: number[] = [];
    for (let crash = 0; crash < 5; crash++) delaysMs.push(await restartDelayMs(h, 'a', 1_000));
    expect(delaysMs).toEqual([100, 200, 400, 500, 500]);
  });

  it('shortens each delay by a jitter drawn from the injected random, at most half of it', async () => {
    let draws = 0;
    const h = harness({ backoffMsMin: 100, backoffMsMax: 10_000, random: { nextInt: () => (draws++, 0) } });
    await NodeSupervisor.start(h.options, [h.scripted.spec('a', 'permanent')]);
    const delaysMs = [await restartDelayMs(h, 'a', 1_000), await restartDelayMs(h, 'a', 1_000)];
    // The lowest draw takes off the whole jitter: half of each ceiling (100, then 200).
    expect(draws).toBe(2);
    expect(delaysMs).toEqual([50, 100]);
  });

  it('starts the backoff over from backoffMsMin once a child ran restartWindowMs without crashing', async () => {
    const h = harness({ backoffMsMin: 100, restartWindowMs: 5_000 });
    await NodeSupervisor.start(h.options, [h.scripted.spec('a', 'permanent')]);
    expect(await restartDelayMs(h, 'a', 1_000)).toBe(100);
    expect(await restartDelayMs(h, 'a', 1_000)).toBe(200);
    await h.clock.advance(4_999);
    expect(await restartDelayMs(h, 'a', 1_000)).toBe(400);
    await h.clock.advance(5_000);
    expect(await restartDelayMs(h, 'a', 1_000)).toBe(100);
  });

  it('does not restart a transient child after a normal exit', async () => {
    const h = harness();
    const supervisor = await NodeSupervisor.start(h.options, [h.scripted.spec('t', 'transient')]);
    h.scripted.latest('t').exit();
    await h.clock.advance(60_000);
    expect(h.scripted.starts('t')).toBe(1);
    expect(supervisor.children()).toEqual([]);
  });

  it('restarts a transient child after a crash', async () => {
    const h = harness({ backoffMsMin: 100 });
    const supervisor = await NodeSupervisor.start(h.options, [h.scripted.spec('t', 'transient')]);
    h.scripted.latest('t').crash(new Error('boom'));
    await h.clock.advance(100);
    expect(h.scripted.starts('t')).toBe(2);
    expect(supervisor.children()).toEqual([{ id: 't', state: 'running', restarts: 1 }]);
  });

  it('never restarts a temporary child, after a crash or a normal exit, and logs the crash', async () => {
    const h = harness();
    const supervisor = await NodeSupervisor.start(h.options, [h.scripted.spec('crashes', 'temporary'), h.scripted.spec('exits', 'temporary')]);
    h.scripted.latest('crashes').crash(new Error('disk gone'));
    h.scripted.latest('exits').exit();
    await h.clock.advance(60_000);
    expect([h.scripted.starts('crashes'), h.scripted.starts('exits')]).toEqual([1, 1]);
    expect(supervisor.children()).toEqual([]);
    const crashLine = h.logLines().find((line) => line.child === 'crashes' && line.level === 50);
    expect((crashLine?.err as { message?: string } | undefined)?.message).toBe('disk gone');
  });

  it('restarts a permanent child that exits normally, as if it had crashed', async () => {
    const h = harness({ backoffMsMin: 100 });
    const supervisor = await NodeSupervisor.start(h.options, [h.scripted.spec('p', 'permanent')]);
    h.scripted.latest('p').exit();
    await h.clock.advance(100);
    expect(h.scripted.starts('p')).toBe(2);
    expect(supervisor.children()).toEqual([{ id: 'p', state: 'running', restarts: 1 }]);
  });

  it('counts a failed start as a crash: restarted with backoff, and counted against the intensity', async () => {
    const h = harness({ backoffMsMin: 100, restartsMax: 2 });
    const supervisor = await NodeSupervisor.start(h.options, [h.scripted.spec('a', 'permanent', { startsFailing: 2 })]);
    expect(supervisor.children()).toEqual([{ id: 'a', state: 'backing-off', restarts: 0 }]);
    await h.clock.advance(100);
    expect(h.scripted.starts('a')).toBe(2);
    await h.clock.advance(200);
    expect(h.scripted.starts('a')).toBe(3);
    expect(supervisor.children()).toEqual([{ id: 'a', state: 'running', restarts: 2 }]);
    expect(h.escalations).toEqual([]);
  });

  it('forgets a temporary child whose start failed', async () => {
    const h = harness();
    const supervisor = await NodeSupervisor.start(h.options, [h.scripted.spec('a', 'temporary', { startsFailing: 1 })]);
    await h.clock.advance(60_000);
    expect(h.scripted.starts('a')).toBe(1);
    expect(supervisor.children()).toEqual([]);
  });

  it('allows restartsMax restarts within restartWindowMs', async () => {
    const h = harness({ backoffMsMin: 10, backoffMsMax: 10, restartsMax: 3, restartWindowMs: 10_000 });
    const supervisor = await NodeSupervisor.start(h.options, [h.scripted.spec('a', 'permanent')]);
    for (let crash = 0; crash < 3; crash++) await restartDelayMs(h, 'a', 100);
    expect(h.escalations).toEqual([]);
    expect(supervisor.children()).toEqual([{ id: 'a', state: 'running', restarts: 3 }]);
  });

  it('escalates on the (restartsMax+1)-th restart within restartWindowMs: every child stopped, onEscalate called once', async () => {
    const h = harness({ backoffMsMin: 10, backoffMsMax: 10, restartsMax: 3, restartWindowMs: 10_000 });
    const specs = [h.scripted.spec('a', 'permanent'), h.scripted.spec('b', 'permanent'), h.scripted.spec('c', 'transient')];
    const supervisor = await NodeSupervisor.start(h.options, specs);
    for (let crash = 0; crash < 3; crash++) await restartDelayMs(h, 'b', 100);
    h.scripted.latest('b').crash(new Error('replica 7 lost its log'));
    await h.clock.advance(60_000);
    expect(h.escalations).toHaveLength(1);
    const message = h.escalations[0]?.message ?? '';
    for (const part of ['"test-supervisor"', 'child "b"', 'replica 7 lost its log']) expect(message).toContain(part);
    expect(h.scripted.stops()).toEqual(['stop c', 'stop a']);
    expect(h.scripted.starts('b')).toBe(4);
    expect(supervisor.children()).toEqual([]);
    await expect(supervisor.asChild().done).rejects.toBe(h.escalations[0]);
    await expect(supervisor.startChild(h.scripted.spec('d', 'permanent'))).rejects.toMatchObject({ code: 'SHUTTING_DOWN' });
  });

  it('does not escalate when the same number of restarts is spread over more than restartWindowMs', async () => {
    const h = harness({ backoffMsMin: 10, backoffMsMax: 10, restartsMax: 2, restartWindowMs: 1_000 });
    const supervisor = await NodeSupervisor.start(h.options, [h.scripted.spec('a', 'permanent')]);
    // Crashes 600 ms apart: any 1000 ms window holds at most two restarts.
    for (let crash = 0; crash < 10; crash++) {
      await restartDelayMs(h, 'a', 100);
      await h.clock.advance(590);
    }
    expect(h.escalations).toEqual([]);
    expect(supervisor.children()).toEqual([{ id: 'a', state: 'running', restarts: 10 }]);
  });

  it('counts restarts over the whole supervisor, not per child', async () => {
    const h = harness({ backoffMsMin: 10, backoffMsMax: 10, restartsMax: 2, restartWindowMs: 10_000 });
    await NodeSupervisor.start(h.options, ['a', 'b', 'c'].map((id) => h.scripted.spec(id, 'permanent')));
    for (const id of ['a', 'b', 'c']) h.scripted.latest(id).crash(new Error(`${id} crashed`));
    await h.clock.advance(1_000);
    expect(h.escalations.map((error) => error.message.includes('child "c"'))).toEqual([true]);
  });

  it('stop() stops children in reverse start order, does not restart them, and is idempotent', async () => {
    const h = harness();
    const supervisor = await NodeSupervisor.start(h.options, ['a', 'b', 'c'].map((id) => h.scripted.spec(id, 'permanent')));
    await Promise.all([supervisor.stop(), supervisor.stop()]);
    await supervisor.stop();
    await h.clock.advance(60_000);
    expect(h.scripted.stops()).toEqual(['stop c', 'stop b', 'stop a']);
    expect(['a', 'b', 'c'].map((id) => h.scripted.starts(id))).toEqual([1, 1, 1]);
    expect(supervisor.children()).toEqual([]);
    expect(h.escalations).toEqual([]);
    await expect(supervisor.asChild().done).resolves.toBeUndefined();
  });

  it('stopChild stops and forgets one child without restarting it', async () => {
    const h = harness();
    const supervisor = await NodeSupervisor.start(h.options, ['a', 'b', 'c'].map((id) => h.scripted.spec(id, 'permanent')));
    await supervisor.stopChild('b');
    await supervisor.stopChild('b');
    await h.clock.advance(60_000);
    expect(h.scripted.stops()).toEqual(['stop b']);
    expect(h.scripted.starts('b')).toBe(1);
    expect(supervisor.children().map((child) => child.id)).toEqual(['a', 'c']);
  });

  it('stops a child that is backing off without restarting it', async () => {
    const h = harness({ backoffMsMin: 100 });
    const supervisor = await NodeSupervisor.start(h.options, [h.scripted.spec('a', 'permanent')]);
    h.scripted.latest('a').crash(new Error('boom'));
    await settle();
    await supervisor.stopChild('a');
    await h.clock.advance(60_000);
    expect(h.scripted.starts('a')).toBe(1);
    expect(supervisor.children()).toEqual([]);
  });

  it('sees a nested supervisor escalation as a crash of that child and restarts it per its own policy', async () => {
    const h = harness({ backoffMsMin: 100, restartsMax: 5 });
    const innerEscalations: Error[] = [];
    const innerOptions: SupervisorOptions = { ...h.options, name: 'inner', restartsMax: 0, onEscalate: (error) => innerEscalations.push(error) };
    const parent = await NodeSupervisor.start(h.options, [supervisorChildSpec('inner', innerOptions, [h.scripted.spec('leaf', 'permanent')])]);
    h.scripted.latest('leaf').crash(new Error('leaf broke'));
    await settle();
    expect(innerEscalations.map((error) => error.message.includes('leaf broke'))).toEqual([true]);
    expect(parent.children()).toEqual([{ id: 'inner', state: 'backing-off', restarts: 0 }]);
    await h.clock.advance(100);
    expect(parent.children()).toEqual([{ id: 'inner', state: 'running', restarts: 1 }]);
    expect(h.scripted.starts('leaf')).toBe(2);
    expect(h.escalations).toEqual([]);
  });

  it('stopping a parent stops its nested supervisor and that one’s children', async () => {
    const h = harness();
    const innerOptions: SupervisorOptions = { ...h.options, name: 'inner' };
    const specs = [h.scripted.spec('first', 'permanent'), supervisorChildSpec('inner', innerOptions, [h.scripted.spec('x', 'permanent'), h.scripted.spec('y', 'permanent')])];
    const parent = await NodeSupervisor.start(h.options, specs);
    await parent.stop();
    expect(h.scripted.stops()).toEqual(['stop y', 'stop x', 'stop first']);
  });

  it('abandons a child that ignores stop() after stopTimeoutMs, with a log line', async () => {
    const h = harness({ stopTimeoutMs: 2_000 });
    const supervisor = await NodeSupervisor.start(h.options, [h.scripted.spec('stuck', 'permanent', { ignoresStop: true })]);
    let stopped = false;
    const stopping = supervisor.stop().then(() => (stopped = true));
    await h.clock.advance(1_999);
    expect(stopped).toBe(false);
    await h.clock.advance(1);
    await stopping;
    expect(stopped).toBe(true);
    const line = h.logLines().find((entry) => entry.msg === 'child did not finish stopping in time; abandoned');
    expect(line).toMatchObject({ child: 'stuck', supervisor: 'test-supervisor', stopTimeoutMs: 2_000 });
  });

  it('abandons a start that hangs past stopTimeoutMs on stop, and stops that child if it starts later', async () => {
    const h = harness({ stopTimeoutMs: 2_000 });
    const supervisor = await NodeSupervisor.start(h.options);
    const starting = supervisor.startChild(h.scripted.spec('slow', 'permanent', { startHeld: true }));
    await settle();
    expect(supervisor.children()).toEqual([{ id: 'slow', state: 'starting', restarts: 0 }]);
    const stopping = supervisor.stop();
    await h.clock.advance(2_000);
    await Promise.all([starting, stopping]);
    expect(h.logLines().some((entry) => entry.msg === 'child did not finish starting in time; abandoned')).toBe(true);
    h.scripted.releaseStarts();
    await settle();
    expect(h.scripted.stops()).toEqual(['stop slow']);
  });

  it('refuses a duplicate id, naming it, and a child beyond childrenMax with RESOURCE_EXHAUSTED', async () => {
    const h = harness({ childrenMax: 2 });
    const supervisor = await NodeSupervisor.start(h.options, [h.scripted.spec('a', 'permanent')]);
    await expect(supervisor.startChild(h.scripted.spec('a', 'permanent'))).rejects.toThrow('already has a child "a"');
    await supervisor.startChild(h.scripted.spec('b', 'permanent'));
    const refusal = await supervisor.startChild(h.scripted.spec('c', 'permanent')).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(TributaryError);
    expect((refusal as TributaryError).code).toBe('RESOURCE_EXHAUSTED');
    expect(h.scripted.starts('c')).toBe(0);
  });

  it('validates its options at start, naming the bad value', async () => {
    const h = harness();
    await expect(NodeSupervisor.start({ ...h.options, restartsMax: -1 })).rejects.toThrow('restartsMax must be an integer from 0 to 1000, got -1');
    await expect(NodeSupervisor.start({ ...h.options, backoffMsMin: 500, backoffMsMax: 100 })).rejects.toThrow('backoffMsMax must be an integer from backoffMsMin (500) to 3600000, got 100');
    await expect(NodeSupervisor.start({ ...h.options, stopTimeoutMs: 1.5 })).rejects.toThrow('stopTimeoutMs must be an integer from 1 to 600000, got 1.5');
  });

  it('runs its delays on the injected clock, holds no timer for a healthy child, and leaves none once stopped', async () => {
    const h = harness({ backoffMsMin: 100 });
    const supervisor = await NodeSupervisor.start(h.options, [h.scripted.spec('a', 'permanent')]);
    expect(h.clock.pendingTimers()).toBe(0);
    h.scripted.latest('a').crash(new Error('boom'));
    await settle();
    expect(h.clock.pendingTimers()).toBe(1);
    await supervisor.stop();
    expect(h.clock.pendingTimers()).toBe(0);
  });
});
