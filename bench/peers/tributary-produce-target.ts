// Tributary as the produce benchmark's subject: three combined nodes (controller and broker in one
// process each, as cluster/local.yaml) started with `trib cluster up` on loopback
// (test/support/local-cluster.ts), durability fsync, a topic with 6 partitions and replication
// factor 3, and the SDK Producer with acks=all. Throughput keeps `sendsInFlightMax` calls of
// `producer.send` with `recordsPerSend` records each outstanding, as an application pushing a
// stream through the SDK would; latency produces at a fixed rate and reads the records back with
// push Subscriptions (one per leader broker) in this process. With a profile directory the nodes run under `node --cpu-prof`
// and are stopped with SIGTERM (`trib cluster down`) so that they write their profiles.
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Admin, type ConsumerRecord, Producer, type ProducerMessage, Subscription, TributaryError } from '../../src/client/index.js';
import { LocalCluster } from '../../test/support/local-cluster.js';
import { cleanEnv, runTrib } from '../../test/support/trib-process.js';
import { measureThroughputWindow, type ThroughputResult } from './throughput-window.js';

export const partitionCount = 6;
export const replicationFactor = 3;
/** Bound on every partition of a new topic having a leader that answers ListOffsets. */
const topicReadyTimeoutMs = 30_000;
/** Bound on `trib cluster up` and `down` with profiling nodes (slower to start, and they write profiles on exit). */
const clusterCommandTimeoutMs = 120_000;
const pollIntervalMs = 100;
/** Latency samples kept per run (a 5k/s run of 60 s fits); beyond it the rest are not recorded. */
const latencySamplesMax = 1_000_000;
/** The latency phase ignores records sent during its first second: connections and metadata warm up. */
const latencyWarmUpMs = 1_000;
/** How often the paced producer wakes to send the records that are due. */
const pacingIntervalMs = 1;

const repositoryRoot = fileURLToPath(new URL('../..', import.meta.url));

export interface ProducerTuning {
  readonly batchBytesMax: number;
  readonly lingerMs: number;
  readonly bufferedBytesMax: number;
  /** Throughput: `producer.send` calls outstanding at once, and records per call. */
  readonly sendsInFlightMax: number;
  readonly recordsPerSend: number;
  /** Latency: the producer's linger (a low-latency user sends at once). */
  readonly latencyLingerMs: number;
}

export interface LatencyResult {
  /** Send call to the Consumer handing out the record, in this process. */
  readonly endToEndMsP50: number;
  readonly endToEndMsP99: number;
  readonly endToEndMsMax: number;
  /** Send call to acks=all acknowledgement. */
  readonly ackMsP50: number;
  readonly ackMsP99: number;
  readonly recordsPerSecond: number;
  readonly samples: number;
  /** Records the producer gave up on (none in a healthy run). */
  readonly failedRecords: number;
}

export class TributaryProduceTarget {
  private cluster: LocalCluster | undefined;
  private admin: Admin | undefined;
  private topics = 0;

  constructor(private readonly profileDirectory: string | undefined) {}

  async start(): Promise<void> {
    const cluster = await LocalCluster.create({ controllers: 3, combined: true, settings: { durability: 'fsync', log: { level: 'warn' } } });
    this.cluster = cluster;
    if (this.profileDirectory === undefined) await cluster.up();
    else await this.upWithProfiler(cluster, this.profileDirectory);
    this.admin = new Admin({ bootstrap: this.bootstrap() });
  }

  /** Throughput of 1 KiB-style records through one Producer over a warm-up and a measured window. */
  async measureThroughput(recordBytes: number, tuning: ProducerTuning, warmUpMs: number, durationMs: number): Promise<ThroughputResult> {
    const topic = await this.createTopic();
    const producer = new Producer({ bootstrap: this.bootstrap(), acks: 'all', batchBytesMax: tuning.batchBytesMax, lingerMs: tuning.lingerMs, bufferedBytesMax: tuning.bufferedBytesMax });
    const messages: ProducerMessage[] = Array.from({ length: tuning.recordsPerSend }, () => ({ value: new Uint8Array(recordBytes).fill(0x61) }));
    try {
      return await measureThroughputWindow({ recordBytes, warmUpMs, durationMs, loops: tuning.sendsInFlightMax }, async () => (await producer.send(topic, messages)).length);
    } finally {
      await producer.close();
    }
  }

  /**
   * Sends `ratePerSecond` records, keyless, for `durationMs`, each carrying its send time; a push
   * Subscription per leader broker, from every partition's end, reads them back. Latencies are
   * over records sent after the first second.
   */
  async measureLatency(recordBytes: number, tuning: ProducerTuning, ratePerSecond: number, durationMs: number): Promise<LatencyResult> {
    const topic = await this.createTopic();
    const subscriptions = await this.subscribeFromEnd(topic);
    const producer = new Producer({ bootstrap: this.bootstrap(), acks: 'all', lingerMs: tuning.latencyLingerMs, batchBytesMax: tuning.batchBytesMax });
    const endToEndMs: number[] = [];
    const ackMs: number[] = [];
    try {
      // The sender and the readers count records sent from the same instant, so their counts meet.
      const startMs = performance.now();
      const readers = subscriptions.map((subscription) => readLatencies(subscription, startMs + latencyWarmUpMs, endToEndMs));
      const sent = await sendPaced(producer, topic, { recordBytes, ratePerSecond, durationMs, startMs }, ackMs);
      await producer.flush();
      await waitUntil(() => endToEndMs.length >= sent.measured || performance.now() - startMs > durationMs + topicReadyTimeoutMs);
      for (const subscription of subscriptions) subscription.close();
      await Promise.all(readers);
      return { ...latencyResult(endToEndMs, ackMs, sent.total, durationMs), failedRecords: sent.failed };
    } finally {
      await producer.close();
      for (const subscription of subscriptions) subscription.close();
    }
  }

  /** One Subscription per leader broker of `topic`, each partition from its high watermark (the topic is new and idle). */
  private async subscribeFromEnd(topic: string): Promise<Subscription[]> {
    const admin = this.requireAdmin();
    const [offsets, { brokers }] = await Promise.all([admin.listOffsets(topic), admin.describeTopics([topic])]);
    const byLeader = new Map<string, Array<{ topic: string; partition: number; offset: number }>>();
    for (const { partition, leaderId, offsets: bounds } of offsets) {
      const address = brokers.find((broker) => broker.nodeId === leaderId)?.address;
      if (address === undefined || bounds === undefined) throw new Error(`tributary: partition ${topic}-${partition} has no leader to subscribe to`);
      byLeader.set(address, [...(byLeader.get(address) ?? []), { topic, partition, offset: bounds.highWatermark }]);
    }
    return [...byLeader].map(([broker, partitions]) => new Subscription({ broker, partitions }));
  }

  async stop(): Promise<void> {
    this.admin?.close();
    const cluster = this.cluster;
    if (cluster === undefined) return;
    // A SIGKILLed node writes no profile; SIGTERM shuts it down and exits, which writes it.
    if (this.profileDirectory !== undefined) await runTrib(['cluster', 'down', '--config', cluster.configPath, '--json'], { timeoutMs: clusterCommandTimeoutMs });
    await cluster.destroy();
  }

  settings(tuning: ProducerTuning): Record<string, unknown> {
    return {
      processes: '3 combined nodes (trib node, roles [controller, broker]) on 127.0.0.1, started by trib cluster up, durability fsync',
      topic: `${partitionCount} partitions, replication factor ${replicationFactor}, minInSyncReplicas default`,
      producer: `SDK Producer, acks all, idempotent (the default with acks all), compression none (the topic default), keyless records (sticky partitioner), batchBytesMax ${tuning.batchBytesMax}, lingerMs ${tuning.lingerMs}, bufferedBytesMax ${tuning.bufferedBytesMax}; ${tuning.sendsInFlightMax} send() calls of ${tuning.recordsPerSend} records outstanding`,
      latency: `SDK Producer with lingerMs ${tuning.latencyLingerMs}, paced every ${pacingIntervalMs} ms; one SDK Subscription (ConsumerService.Subscribe, push with credit) per leader broker in the same process; times from the send call to the record leaving the subscription's iterator`,
    };
  }

  /** `trib cluster up` run under `--cpu-prof`: each node inherits the CLI's execArgv, so it profiles too. */
  private async upWithProfiler(cluster: LocalCluster, profileDirectory: string): Promise<void> {
    const args = ['--cpu-prof', `--cpu-prof-dir=${profileDirectory}`, '--import', 'tsx', 'src/cli/main.ts', 'cluster', 'up', '--config', cluster.configPath, '--json'];
    const child = spawn(process.execPath, args, { cwd: repositoryRoot, env: cleanEnv(), stdio: ['ignore', 'ignore', 'inherit'] });
    const [code] = await new Promise<[number | null]>((resolve) => child.once('exit', (exitCode) => resolve([exitCode])));
    if (code !== 0) throw new Error(`trib cluster up under --cpu-prof failed with exit code ${code}`);
  }

  private async createTopic(): Promise<string> {
    const admin = this.requireAdmin();
    const topic = `bench-produce-${++this.topics}`;
    const deadline = performance.now() + topicReadyTimeoutMs;
    // Right after `cluster up` the brokers may not be registered and unfenced yet (NOT_ENOUGH_REPLICAS, retriable).
    for (;;) {
      const created = await admin.createTopic(topic, { config: { partitions: partitionCount, replicationFactor }, idempotencyKey: topic }).then(
        () => true,
        (error: unknown) => {
          if (!(error instanceof TributaryError && error.retriable) || performance.now() > deadline) throw error;
          return false;
        },
      );
      if (created) break;
      await sleep(pollIntervalMs);
    }
    for (;;) {
      const offsets = await admin.listOffsets(topic).catch(() => []);
      if (offsets.length === partitionCount && offsets.every((partition) => partition.error === undefined)) return topic;
      if (performance.now() > deadline) throw new Error(`tributary: topic ${topic} had no leader for every partition within ${topicReadyTimeoutMs} ms`);
      await sleep(pollIntervalMs);
    }
  }

  private bootstrap(): string[] {
    if (this.cluster === undefined) throw new Error('tributary target: not started');
    return this.cluster.bootstrap.split(',');
  }

  private requireAdmin(): Admin {
    if (this.admin === undefined) throw new Error('tributary target: not started');
    return this.admin;
  }
}

/** Sends what is due every `pacingIntervalMs`; each value starts with its send time (performance.now(), float64). */
async function sendPaced(producer: Producer, topic: string, pace: { recordBytes: number; ratePerSecond: number; durationMs: number; startMs: number }, ackMs: number[]): Promise<{ total: number; measured: number; failed: number }> {
  const { recordBytes, ratePerSecond, durationMs, startMs } = pace;
  const sent = { total: 0, measured: 0, failed: 0 };
  for (let nowMs = startMs; nowMs - startMs < durationMs; nowMs = performance.now()) {
    const due = Math.floor(((nowMs - startMs) * ratePerSecond) / 1_000);
    for (; sent.total < due; sent.total++) {
      const value = new Uint8Array(recordBytes);
      const sentAtMs = performance.now();
      new DataView(value.buffer).setFloat64(0, sentAtMs);
      const measured = sentAtMs - startMs >= latencyWarmUpMs;
      if (measured) sent.measured++;
      // A failed record is counted, not thrown: the run reports it and waits no longer for it.
      void producer.sendRecord(topic, { value }).then(
        () => {
          if (measured && ackMs.length < latencySamplesMax) ackMs.push(performance.now() - sentAtMs);
        },
        () => {
          sent.failed++;
          if (measured) sent.measured--;
        },
      );
    }
    await sleep(pacingIntervalMs);
  }
  return sent;
}

/** Reads until the subscription is closed; records sent after the warm-up give a latency sample each. */
async function readLatencies(subscription: AsyncIterable<ConsumerRecord>, measuredFromMs: number, endToEndMs: number[]): Promise<void> {
  for await (const record of subscription) {
    const sentAtMs = new DataView(record.value.buffer, record.value.byteOffset, record.value.byteLength).getFloat64(0);
    if (sentAtMs >= measuredFromMs && endToEndMs.length < latencySamplesMax) endToEndMs.push(performance.now() - sentAtMs);
  }
}

function latencyResult(endToEndMs: number[], ackMs: number[], sentTotal: number, durationMs: number): Omit<LatencyResult, 'failedRecords'> {
  const sortedEndToEnd = [...endToEndMs].sort((left, right) => left - right);
  const sortedAck = [...ackMs].sort((left, right) => left - right);
  return {
    endToEndMsP50: nearestRank(sortedEndToEnd, 0.5),
    endToEndMsP99: nearestRank(sortedEndToEnd, 0.99),
    endToEndMsMax: sortedEndToEnd.at(-1) ?? Number.NaN,
    ackMsP50: nearestRank(sortedAck, 0.5),
    ackMsP99: nearestRank(sortedAck, 0.99),
    recordsPerSecond: sentTotal / (durationMs / 1_000),
    samples: endToEndMs.length,
  };
}

function nearestRank(sorted: readonly number[], quantile: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(quantile * sorted.length) - 1)] ?? Number.NaN;
}

async function waitUntil(condition: () => boolean): Promise<void> {
  while (!condition()) await sleep(pollIntervalMs);
}
