import { describe, expect, it } from 'vitest';
import { BrokerLifecycle, brokerLifecycleDefaults, type ControllerLink } from '../../../src/actors/broker-lifecycle/broker-lifecycle.js';
import { TributaryError } from '../../../src/errors/index.js';
import type { BrokerHeartbeat, BrokerHeartbeatAnswer, BrokerRegistered } from '../../../src/rpc/clients/index.js';
import { captureLogger } from '../../support/log-capture.js';
import { ManualClock } from '../../support/manual-clock.js';

const heartbeatIntervalMs = 1_000;

/** A controller as the lifecycle sees it: answers scripted per call, every call recorded. */
class ScriptedController implements ControllerLink {
  readonly registrations: number[] = [];
  readonly heartbeats: Array<BrokerHeartbeat & { atMs: number }> = [];
  registerFailures: TributaryError[] = [];
  heartbeatFailures: TributaryError[] = [];
  epoch = 7;
  shutdownReadyAfter = Number.POSITIVE_INFINITY;

  constructor(private readonly clock: ManualClock) {}

  register(): Promise<BrokerRegistered> {
    this.registrations.push(this.clock.nowMs());
    const failure = this.registerFailures.shift();
    if (failure !== undefined) return Promise.reject(failure);
    return Promise.resolve({ brokerEpoch: this.epoch, clusterId: 'c', metadataVersion: 3, sessionTimeoutMs: 9_000, heartbeatIntervalMs });
  }

  heartbeat(heartbeat: BrokerHeartbeat): Promise<BrokerHeartbeatAnswer> {
    this.heartbeats.push({ ...heartbeat, atMs: this.clock.nowMs() });
    const failure = this.heartbeatFailures.shift();
    if (failure !== undefined) return Promise.reject(failure);
    const shuttingDown = heartbeat.wantsShutdown === true;
    const shutdownBeats = this.heartbeats.filter((beat) => beat.wantsShutdown === true).length;
    return Promise.resolve({
      standing: shuttingDown ? 'shuttingDown' : heartbeat.metadataVersion >= 3 ? 'active' : 'fenced',
      sessionTimeoutMs: 9_000,
      heartbeatIntervalMs,
      shutdownReady: shuttingDown && shutdownBeats >= this.shutdownReadyAfter,
      remainingLeaderships: shuttingDown ? 2 : 0,
      metadataVersion: 3,
    });
  }
}

function lifecycleOn(clock: ManualClock, controller: ScriptedController, appliedVersion: () => number = () => 3) {
  const standings: string[] = [];
  const failures: TributaryError[] = [];
  const capture = captureLogger();
  const lifecycle = new BrokerLifecycle({
    registration: { nodeId: 4, address: '127.0.0.1:9000', incarnationId: 'incarnation-1' },
    link: controller,
    appliedMetadataVersion: appliedVersion,
    clock,
    random: () => 0.5,
    logger: capture.logger,
    settings: { ...brokerLifecycleDefaults, backoffMsMin: 100, backoffMsMax: 400, controlledShutdownTimeoutMs: 5_000, shutdownPollMs: 200 },
    onStanding: (standing) => standings.push(standing),
    onFailure: (error) => failures.push(error),
  });
  return { lifecycle, standings, failures, capture };
}

describe('broker lifecycle', () => {
  it('registers, then heartbeats at the interval the controller asked for, reporting the applied metadata version', async () => {
    const clock = new ManualClock();
    const controller = new ScriptedController(clock);
    let applied = 1;
    const { lifecycle, standings } = lifecycleOn(clock, controller, () => applied);
    lifecycle.start();
    await clock.advance(0);
    expect(lifecycle.brokerEpoch()).toBe(7);
    expect(controller.heartbeats.map((beat) => beat.metadataVersion)).toEqual([1]);
    expect(lifecycle.standing()).toBe('fenced');
    applied = 3;
    await clock.advance(3 * heartbeatIntervalMs);
    expect(controller.heartbeats.map((beat) => beat.atMs)).toEqual([0, 1_000, 2_000, 3_000]);
    expect(controller.heartbeats.every((beat) => beat.nodeId === 4 && beat.brokerEpoch === 7)).toBe(true);
    expect(lifecycle.standing()).toBe('active');
    expect(standings).toEqual(['fenced', 'active']);
  });

  it('retries a failed registration with growing backoff', async () => {
    const clock = new ManualClock();
    const controller = new ScriptedController(clock);
    controller.registerFailures = [new TributaryError('NOT_AVAILABLE', 'no leader'), new TributaryError('NOT_AVAILABLE', 'no leader'), new TributaryError('TIMEOUT', 'slow')];
    const { lifecycle } = lifecycleOn(clock, controller);
    lifecycle.start();
    await clock.advance(2_000);
    // Equal jitter at random 0.5: three quarters of a ceiling that doubles from 100 ms, capped at 400.
    expect(controller.registrations).toEqual([0, 75, 225, 525]);
    expect(lifecycle.brokerEpoch()).toBe(7);
  });

  it('registers again when the controller no longer knows its incarnation', async () => {
    const clock = new ManualClock();
    const controller = new ScriptedController(clock);
    const { lifecycle } = lifecycleOn(clock, controller);
    lifecycle.start();
    await clock.advance(0);
    controller.heartbeatFailures = [new TributaryError('NODE_NOT_FOUND', 'broker 4 is not registered')];
    controller.epoch = 8;
    await clock.advance(heartbeatIntervalMs);
    expect(controller.registrations).toHaveLength(2);
    expect(lifecycle.brokerEpoch()).toBe(8);
    expect(controller.heartbeats.at(-1)?.brokerEpoch).toBe(8);
  });

  it('keeps heartbeating through transient failures', async () => {
    const clock = new ManualClock();
    const controller = new ScriptedController(clock);
    const { lifecycle, failures } = lifecycleOn(clock, controller);
    lifecycle.start();
    await clock.advance(0);
    controller.heartbeatFailures = [new TributaryError('NOT_AVAILABLE', 'election'), new TributaryError('TIMEOUT', 'slow')];
    await clock.advance(3 * heartbeatIntervalMs);
    expect(controller.heartbeats).toHaveLength(4);
    expect(controller.registrations).toHaveLength(1);
    expect(failures).toEqual([]);
    expect(lifecycle.standing()).toBe('active');
  });

  it('fails for good when another process took its node id (FENCED), and stops heartbeating', async () => {
    const clock = new ManualClock();
    const controller = new ScriptedController(clock);
    const { lifecycle, failures } = lifecycleOn(clock, controller);
    lifecycle.start();
    await clock.advance(0);
    controller.heartbeatFailures = [new TributaryError('FENCED', 'broker 4 epoch 7 was replaced by epoch 9')];
    await clock.advance(5 * heartbeatIntervalMs);
    expect(failures.map((error) => error.code)).toEqual(['FENCED']);
    expect(controller.heartbeats).toHaveLength(2);
    expect(lifecycle.state()).toBe('"failed"');
  });

  it('controlled shutdown heartbeats with wants-shutdown until the controller moved every leadership away', async () => {
    const clock = new ManualClock();
    const controller = new ScriptedController(clock);
    controller.shutdownReadyAfter = 3;
    const { lifecycle, capture } = lifecycleOn(clock, controller);
    lifecycle.start();
    await clock.advance(0);
    const stopped = lifecycle.shutdown();
    await clock.advance(1_000);
    await stopped;
    const shutdownBeats = controller.heartbeats.filter((beat) => beat.wantsShutdown === true);
    expect(shutdownBeats.map((beat) => beat.atMs)).toEqual([0, 200, 400]);
    expect(lifecycle.state()).toBe('"stopped"');
    // Ready with leaderships left: none could move, and the log says how many stayed.
    expect(capture.lines().find((line) => line.msg === 'controlled shutdown ended with leaderships not moved away')).toMatchObject({ remainingLeaderships: 2 });
  });

  it('controlled shutdown gives up after controlledShutdownTimeoutMs and says so', async () => {
    const clock = new ManualClock();
    const controller = new ScriptedController(clock);
    const { lifecycle, capture } = lifecycleOn(clock, controller);
    lifecycle.start();
    await clock.advance(0);
    const stopped = lifecycle.shutdown();
    await clock.advance(5_000);
    await stopped;
    expect(lifecycle.state()).toBe('"stopped"');
    expect(capture.lines().some((line) => line.msg === 'controlled shutdown ended with leaderships not moved away')).toBe(true);
  });

  it('controlled shutdown stops after shutdownFailuresMax failed heartbeats in a row: nobody can move the leaderships', async () => {
    const clock = new ManualClock();
    const controller = new ScriptedController(clock);
    const { lifecycle } = lifecycleOn(clock, controller);
    lifecycle.start();
    await clock.advance(0);
    controller.heartbeatFailures = Array.from({ length: 10 }, () => new TributaryError('NOT_AVAILABLE', 'no controller leader'));
    const stopped = lifecycle.shutdown();
    await clock.advance(1_000);
    await stopped;
    expect(controller.heartbeats.filter((beat) => beat.wantsShutdown === true)).toHaveLength(3);
    expect(lifecycle.state()).toBe('"stopped"');
  });

  it('a shutdown before registration succeeded stops at once', async () => {
    const clock = new ManualClock();
    const controller = new ScriptedController(clock);
    controller.registerFailures = [new TributaryError('NOT_AVAILABLE', 'no leader')];
    const { lifecycle } = lifecycleOn(clock, controller);
    lifecycle.start();
    await clock.advance(0);
    await lifecycle.shutdown();
    expect(controller.heartbeats).toEqual([]);
    expect(lifecycle.state()).toBe('"stopped"');
  });
});
