import { Counter } from 'prom-client';
import type { MetricsRegistry } from '../../observability/index.js';

/** What the ingest service counts as chunks are answered (DESIGN.md §10: upload bytes committed). */
export interface IngestMetrics {
  /** A chunk committed: `storedBytes` added to its source, `duplicateBytes` repeated stored ones. */
  committed(storedBytes: number, duplicateBytes: number): void;
  /** A chunk refused, by error code. */
  refused(code: string): void;
}

/**
 * `trib_upload_chunks_total{result}` (stored, duplicate, or the error code),
 * `trib_upload_bytes_committed_total` and `trib_upload_duplicate_bytes_total`. The RPC metrics
 * count an Upload call once, when it ends; these count what its chunks did.
 */
export function registerIngestMetrics(metrics: MetricsRegistry): IngestMetrics {
  const registers = [metrics.registry];
  const chunks = new Counter({
    name: `${metrics.prefix}upload_chunks_total`,
    help: 'Upload chunks this broker answered, by result: stored (added bytes), duplicate (only repeated committed bytes), or the error code.',
    labelNames: ['result'],
    registers,
  });
  const committedBytes = new Counter({ name: `${metrics.prefix}upload_bytes_committed_total`, help: 'Source bytes uploads added and the in-sync replicas committed.', registers });
  const duplicateBytes = new Counter({ name: `${metrics.prefix}upload_duplicate_bytes_total`, help: 'Uploaded bytes that repeated committed ones: acknowledged, not stored again.', registers });
  return {
    committed: (stored, duplicate) => {
      chunks.inc({ result: stored > 0 ? 'stored' : 'duplicate' });
      committedBytes.inc(stored);
      duplicateBytes.inc(duplicate);
    },
    refused: (code) => chunks.inc({ result: code }),
  };
}
