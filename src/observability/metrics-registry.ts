import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface MetricsRegistryOptions {
  /** Prepended to every metric name; defaults to 'trib_'. */
  prefix?: string;
  /** Also collect Node's process metrics (CPU, memory, event-loop lag, GC); defaults to false. */
  defaultMetrics?: boolean;
}

type RpcCallLabel = 'service' | 'method' | 'code';
type RpcMethodLabel = 'service' | 'method';

const prefixDefault = 'trib_';

/**
 * RPC latencies span from a cached metadata read (~100 µs) to a large fetch or a produce that
 * waits for replication (seconds); the buckets cover 100 µs to 10 s at 1-2.5-5 steps.
 */
export const rpcDurationBucketsSeconds: readonly number[] = Object.freeze([
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]);

/**
 * One process's (or one test's) metrics. It owns a private prom-client `Registry` rather than the
 * global one, so that several nodes in one process (`trib dev --nodes 3`, the simulator, parallel
 * tests) never collide on metric names. The RPC metrics every server records are defined here,
 * in one place, so that all services share names, labels and buckets.
 */
export class MetricsRegistry {
  readonly registry: Registry;
  readonly prefix: string;
  readonly rpcRequestsTotal: Counter<RpcCallLabel>;
  readonly rpcDurationSeconds: Histogram<RpcCallLabel>;
  readonly rpcInFlight: Gauge<RpcMethodLabel>;
  readonly rpcBytesReceivedTotal: Counter<RpcMethodLabel>;
  readonly rpcBytesSentTotal: Counter<RpcMethodLabel>;

  constructor(options: MetricsRegistryOptions = {}) {
    this.prefix = options.prefix ?? prefixDefault;
    this.registry = new Registry();
    if (options.defaultMetrics === true) {
      collectDefaultMetrics({ register: this.registry, prefix: this.prefix });
    }
    const registers = [this.registry];
    const callLabels: RpcCallLabel[] = ['service', 'method', 'code'];
    const methodLabels: RpcMethodLabel[] = ['service', 'method'];
    this.rpcRequestsTotal = new Counter({
      name: `${this.prefix}rpc_requests_total`,
      help: 'RPCs completed, by service, method and gRPC status code.',
      labelNames: callLabels,
      registers,
    });
    this.rpcDurationSeconds = new Histogram({
      name: `${this.prefix}rpc_duration_seconds`,
      help: 'Time from receiving an RPC to sending its status, by service, method and gRPC status code.',
      labelNames: callLabels,
      buckets: [...rpcDurationBucketsSeconds],
      registers,
    });
    this.rpcInFlight = new Gauge({
      name: `${this.prefix}rpc_in_flight`,
      help: 'RPCs received whose status has not yet been sent, by service and method.',
      labelNames: methodLabels,
      registers,
    });
    this.rpcBytesReceivedTotal = new Counter({
      name: `${this.prefix}rpc_bytes_received_total`,
      help: 'Serialized request message bytes received, by service and method.',
      labelNames: methodLabels,
      registers,
    });
    this.rpcBytesSentTotal = new Counter({
      name: `${this.prefix}rpc_bytes_sent_total`,
      help: 'Serialized response message bytes sent, by service and method.',
      labelNames: methodLabels,
      registers,
    });
  }

  /** The Prometheus content type of `metrics()`. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** All metrics in the Prometheus text exposition format. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}

export function createMetricsRegistry(options: MetricsRegistryOptions = {}): MetricsRegistry {
  return new MetricsRegistry(options);
}
