import type { ActorOptions, AnyActorLogic } from 'xstate';
import type { Clock } from './clock.js';

/** The clock option createActor takes. */
type XstateClock = NonNullable<ActorOptions<AnyActorLogic>['clock']>;

/**
 * xstate's clock over ours, so a machine's `after` delays run on the injected clock: the system
 * clock in a process, a manual or simulated one in tests (DESIGN.md §8). Pass it as
 * `createActor(machine, { clock: xstateClockOf(clock) })`.
 */
export function xstateClockOf(clock: Clock): XstateClock {
  let lastTimerId = 0;
  const cancels = new Map<number, () => void>();
  return {
    setTimeout(callback: () => void, delayMs: number): number {
      const timerId = ++lastTimerId;
      cancels.set(
        timerId,
        clock.setTimer(delayMs, () => {
          cancels.delete(timerId);
          callback();
        }),
      );
      return timerId;
    },
    clearTimeout(timerId: number): void {
      cancels.get(timerId)?.();
      cancels.delete(timerId);
    },
  };
}
