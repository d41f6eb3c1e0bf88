import type { ActorOptions, AnyActorLogic } from 'xstate';
import type { Clock } from '../clock.js';

/** xstate's clock interface, which the package does not export by name. */
type XstateClockInterface = NonNullable<ActorOptions<AnyActorLogic>['clock']>;

/**
 * Adapts our injected Clock to the shape xstate's scheduler calls (`createActor(machine, {clock})`),
 * so a machine's delayed transitions run on the same clock as everything else: the wall clock in
 * production, a manual or simulated one in tests.
 */
export function xstateClock(clock: Clock): XstateClockInterface {
  /** Cancel functions of the timers set and not yet fired or cleared; entries leave on either. */
  const cancels = new Map<number, () => void>();
  let idNext = 1;
  return {
    setTimeout(callback: () => void, timeoutMs: number): number {
      const id = idNext++;
      const cancel = clock.setTimer(timeoutMs, () => {
        cancels.delete(id);
        callback();
      });
      cancels.set(id, cancel);
      return id;
    },
    clearTimeout(id: number): void {
      cancels.get(id)?.();
      cancels.delete(id);
    },
  };
}
