import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ThroughputResult {
  readonly recordsPerSecond: number;
  readonly mebibytesPerSecond: number;
  readonly records: number;
  readonly seconds: number;
}

export interface ThroughputWindow {
  readonly recordBytes: number;
  /** Loops run this long before counting starts: connections, metadata and batching warm up. */
  readonly warmUpMs: number;
  readonly durationMs: number;
  /** Loops running at once, each awaiting its own send before the next. */
  readonly loops: number;
}

/**
 * Runs `window.loops` loops of `send` (which resolves with the records it got acknowledged) for
 * the warm-up and then the measured window, counting only what was acknowledged within the
 * window, so every target of a benchmark is measured the same way.
 */
export async function measureThroughputWindow(window: ThroughputWindow, send: () => Promise<number>): Promise<ThroughputResult> {
  let acknowledged = 0;
  let stopAtMs = performance.now() + window.warmUpMs + window.durationMs;
  const loop = async (): Promise<void> => {
    while (performance.now() < stopAtMs) {
      // Not `acknowledged += await send()`: that reads the count before the await and loses the other loops' additions.
      const records = await send();
      acknowledged += records;
    }
  };
  const loops = Array.from({ length: window.loops }, loop);
  await sleep(window.warmUpMs);
  const startMs = performance.now();
  const acknowledgedAtStart = acknowledged;
  await sleep(window.durationMs);
  const seconds = (performance.now() - startMs) / 1_000;
  const records = acknowledged - acknowledgedAtStart;
  stopAtMs = 0;
  await Promise.all(loops);
  return { recordsPerSecond: records / seconds, mebibytesPerSecond: (records * window.recordBytes) / seconds / 1_048_576, records, seconds };
}
