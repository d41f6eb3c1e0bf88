import { Counter } from 'prom-client';
import type { MetricsRegistry } from '../../observability/index.js';

/** Counts every produced batch's answer, whichever call carried it (Produce, ProduceBatch or one append of a ProduceStream). */
export interface ProduceResults {
  /** `appended`, `duplicate` (a retry answered with its original offsets), or the error code. */
  count(result: string): void;
}

/**
 * `trib_produce_batches_total{result}`. The RPC metrics count a call once, when it ends, so a
 * ProduceStream's NOT_LEADER or TIMEOUT answers (one per append) would be seen nowhere without it.
 */
export function registerProduceResults(metrics: MetricsRegistry): ProduceResults {
  const batches = new Counter({
    name: `${metrics.prefix}produce_batches_total`,
    help: 'Produced batches this broker answered, by result: appended, duplicate (an idempotent retry answered with its original offsets), or the error code.',
    labelNames: ['result'],
    registers: [metrics.registry],
  });
  return { count: (result) => batches.inc({ result }) };
}
