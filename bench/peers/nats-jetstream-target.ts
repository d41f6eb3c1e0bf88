// NATS JetStream R3 as the produce benchmark's peer: a 3-node cluster (bench/peers/nats-cluster.ts),
// one file-stored stream with 3 replicas, and one client publishing 1 KiB messages with the
// JetStream API's asynchronous publish (each publish resolves with the stream's ack, sent once the
// message is stored on a quorum of the replicas), with at most `publishesInFlightMax` unacknowledged.
// Client: @nats-io/transport-node and @nats-io/jetstream 3.x, the maintained NATS JavaScript client
// (the `nats` 2.x package is its predecessor, kept for fixes only).
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { jetstream, jetstreamManager, StorageType } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { NatsCluster } from './nats-cluster.js';
import { measureThroughputWindow, type ThroughputResult } from './throughput-window.js';

export type { ThroughputResult } from './throughput-window.js';

const streamName = 'tributary-bench';
const subject = 'bench.produce';
/** How long the cluster may take to elect its JetStream meta leader and create the stream. */
const streamReadyTimeoutMs = 30_000;
const retryIntervalMs = 250;
/** Unacknowledged publishes at once by default, the bound the issue asks for (`--nats-in-flight`). */
export const publishesInFlightDefault = 256;

export class NatsJetStreamTarget {
  private cluster: NatsCluster | undefined;
  private connection: NatsConnection | undefined;

  constructor(private readonly publishesInFlightMax: number = publishesInFlightDefault) {}

  async start(): Promise<void> {
    this.cluster = await NatsCluster.start();
    this.connection = await connectWhenUp(this.cluster);
    await createStreamWhenReady(this.connection, this.cluster);
  }

  /** Publishes `recordBytes` messages for `warmUpMs`, then counts acks over `durationMs`. */
  async measureThroughput(recordBytes: number, warmUpMs: number, durationMs: number): Promise<ThroughputResult> {
    const js = jetstream(this.requireConnection());
    const payload = new Uint8Array(recordBytes).fill(0x61);
    return measureThroughputWindow({ recordBytes, warmUpMs, durationMs, loops: this.publishesInFlightMax }, async () => {
      await js.publish(subject, payload);
      return 1;
    });
  }

  async stop(): Promise<void> {
    await this.connection?.close().catch(() => undefined);
    await this.cluster?.stop();
  }

  settings(): Record<string, unknown> {
    return {
      server: `nats-server ${this.cluster?.version ?? 'unknown'} (Debian), 3 nodes clustered on 127.0.0.1, JetStream file storage`,
      stream: 'replicas 3, file storage, one subject; acked once stored on a quorum of replicas',
      durability: 'nats-server default: written to the file store, fsynced every 2 minutes (sync_interval), not before the ack',
      client: `@nats-io/jetstream 3.x over @nats-io/transport-node, js.publish (async acks), at most ${this.publishesInFlightMax} in flight, one connection`,
    };
  }

  private requireConnection(): NatsConnection {
    if (this.connection === undefined) throw new Error('nats target: not started');
    return this.connection;
  }
}

export async function connectWhenUp(cluster: NatsCluster): Promise<NatsConnection> {
  const deadline = performance.now() + streamReadyTimeoutMs;
  for (;;) {
    try {
      return await connect({ servers: cluster.servers(), timeout: 1_000 });
    } catch (error) {
      if (performance.now() > deadline) throw new Error(`nats: no node accepted a connection within ${streamReadyTimeoutMs} ms (${String(error)}); logs:\n${cluster.logTails()}`, { cause: error });
      await sleep(retryIntervalMs);
    }
  }
}

/** Retries until the cluster has a JetStream meta leader and places the stream on three nodes. */
export async function createStreamWhenReady(connection: NatsConnection, cluster: NatsCluster, stream: { name: string; subject: string } = { name: streamName, subject }): Promise<void> {
  const deadline = performance.now() + streamReadyTimeoutMs;
  for (;;) {
    try {
      const manager = await jetstreamManager(connection, { timeout: 2_000 });
      await manager.streams.add({ name: stream.name, subjects: [stream.subject], num_replicas: 3, storage: StorageType.File });
      return;
    } catch (error) {
      if (performance.now() > deadline) throw new Error(`nats: stream not created within ${streamReadyTimeoutMs} ms (${String(error)}); logs:\n${cluster.logTails()}`, { cause: error });
      await sleep(retryIntervalMs);
    }
  }
}
