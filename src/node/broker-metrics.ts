import { Counter, Gauge } from 'prom-client';
import type { PartitionReplicas } from '../actors/partition-replica/partition-replicas.js';
import type { MetricsRegistry } from '../observability/index.js';

export type IsrChangeOutcomeLabel = 'committed' | 'refused' | 'undecided';

/** What the broker role records as it runs; the gauges are read from its replicas when scraped. */
export interface BrokerMetrics {
  /** One ISR proposal of a leader, by what it did (shrink, expand or both) and how it ended. */
  isrChange(change: 'shrink' | 'expand' | 'shrink_expand', outcome: IsrChangeOutcomeLabel): void;
  /** The replicas the gauges read; until set they read nothing. */
  observe(replicas: PartitionReplicas): void;
  /** The device-session actors the sessions gauge counts. */
  observeSessions(sessions: { activeCount(): number }): void;
}

/**
 * The broker's replication metrics (DESIGN.md §10): partitions by role, the partitions this broker
 * leads whose ISR lacks a replica (Kafka's UnderReplicatedPartitions), ISR changes, and the upload
 * sessions active on it.
 */
export function registerBrokerMetrics(metrics: MetricsRegistry): BrokerMetrics {
  const registers = [metrics.registry];
  let replicas: PartitionReplicas | undefined;
  new Gauge({
    name: `${metrics.prefix}broker_partitions`,
    help: 'Partitions hosted by this broker, by replica role (leading, following, offline, settling, opening, failed).',
    labelNames: ['role'],
    registers,
    collect() {
      this.reset();
      for (const role of replicas?.roles().values() ?? []) this.inc({ role });
    },
  });
  new Gauge({
    name: `${metrics.prefix}broker_under_replicated_partitions`,
    help: 'Partitions this broker leads whose in-sync replicas are fewer than their replicas.',
    registers,
    collect() {
      this.set(replicas?.underReplicatedCount() ?? 0);
    },
  });
  let sessions: { activeCount(): number } | undefined;
  new Gauge({
    name: `${metrics.prefix}upload_sessions_active`,
    help: 'Upload sessions with a device-session actor on this broker: not ended, on an ingest partition it leads.',
    registers,
    collect() {
      this.set(sessions?.activeCount() ?? 0);
    },
  });
  const isrChanges = new Counter({
    name: `${metrics.prefix}broker_isr_changes_total`,
    help: 'ISR changes proposed by the partitions this broker leads, by change and outcome.',
    labelNames: ['change', 'outcome'],
    registers,
  });
  return {
    isrChange: (change, outcome) => isrChanges.inc({ change, outcome }),
    observe: (observed) => {
      replicas = observed;
    },
    observeSessions: (observed) => {
      sessions = observed;
    },
  };
}
