/**
 * Time for actors, injected so the simulator can pass a virtual clock (DESIGN.md §8): actors never
 * call Date.now or setTimeout themselves.
 */
export interface Clock {
  nowMs(): number;
  /** Calls `callback` once after `delayMs`; the returned function cancels it. */
  setTimer(delayMs: number, callback: () => void): () => void;
}

/** The wall clock. Timers are unref'd: a pending timer alone never keeps a process alive. */
export const systemClock: Clock = {
  nowMs: () => Date.now(),
  setTimer(delayMs, callback) {
    const timer = setTimeout(callback, delayMs);
    timer.unref();
    return () => clearTimeout(timer);
  },
};
