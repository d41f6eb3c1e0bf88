// NATS JetStream R3 as the ingest benchmark's peer (bench/ingest.ts): a 3-node cluster
// (bench/peers/nats-cluster.ts) whose max_payload is raised so a 1 MiB payload and its headers
// fit (nats-server's default max_payload is exactly 1 MiB), one file-stored stream with 3
// replicas, and publishers that each publish a fixed number of payloads with the JetStream API's
// asynchronous publish (each resolves with the stream's ack, sent once a quorum of the replicas
// stored the message), at most `publishesInFlightMax` unacknowledged per publisher. Each publisher
// has its own connection, as each device has its own in the Tributary target.
import { randomBytes } from 'node:crypto';
import { jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { NatsCluster } from './nats-cluster.js';
import { connectWhenUp, createStreamWhenReady } from './nats-jetstream-target.js';
import { measureUploads, type UploadResult } from './upload-window.js';

const stream = { name: 'tributary-bench-ingest', subject: 'bench.ingest' };
/** Room for a 1 MiB payload plus its headers (8 MiB: the largest nats-server accepts without a warning). */
export const natsMaxPayloadBytes = 8 * 1024 * 1024;
/** Bound on connecting one publisher, before the window starts. */
const connectTimeoutMs = 10_000;
/**
 * Bound on one publish's ack. The client's default, 5 s, is shorter than the queue of 100
 * publishers with 16 MiB in flight each at about 100 MiB/s: the last acks come after 10-15 s.
 */
const publishTimeoutMs = 120_000;

export class NatsJetStreamUploadTarget {
  private cluster: NatsCluster | undefined;
  private connection: NatsConnection | undefined;

  constructor(private readonly publishesInFlightMax: number) {}

  async start(): Promise<void> {
    this.cluster = await NatsCluster.start({ maxPayloadBytes: natsMaxPayloadBytes });
    this.connection = await connectWhenUp(this.cluster);
    await createStreamWhenReady(this.connection, this.cluster, stream);
  }

  /** `publishers` publishers at once, each publishing `payloadsPerPublisher` random payloads of `payloadBytes`. */
  async measureUpload(publishers: number, payloadsPerPublisher: number, payloadBytes: number): Promise<UploadResult> {
    const cluster = this.requireCluster();
    const payload = randomBytes(payloadBytes);
    const connections = await Promise.all(Array.from({ length: publishers }, () => connect({ servers: cluster.servers(), timeout: connectTimeoutMs })));
    try {
      return await measureUploads(publishers, async (index) => {
        const js = jetstream(connections[index] as NatsConnection, { timeout: publishTimeoutMs });
        let published = 0;
        const loop = async (): Promise<void> => {
          while (published < payloadsPerPublisher) {
            published += 1;
            await js.publish(stream.subject, payload);
          }
        };
        await Promise.all(Array.from({ length: Math.min(this.publishesInFlightMax, payloadsPerPublisher) }, loop));
        return payloadsPerPublisher * payloadBytes;
      });
    } finally {
      await Promise.all(connections.map((connection) => connection.close().catch(() => undefined)));
    }
  }

  async stop(): Promise<void> {
    await this.connection?.close().catch(() => undefined);
    await this.cluster?.stop();
  }

  settings(): Record<string, unknown> {
    return {
      server: `nats-server ${this.cluster?.version ?? 'unknown'} (Debian), 3 nodes clustered on 127.0.0.1, JetStream file storage, max_payload ${natsMaxPayloadBytes} (the default, 1 MiB, is too small for a 1 MiB payload with headers)`,
      stream: 'one stream, replicas 3, file storage, one subject; acked once stored on a quorum of replicas',
      durability: 'nats-server default: written to the file store, fsynced every 2 minutes (sync_interval), not before the ack',
      client: `@nats-io/jetstream 3.x over @nats-io/transport-node, js.publish (async acks), one connection per publisher, at most ${this.publishesInFlightMax} publishes in flight per publisher`,
    };
  }

  private requireCluster(): NatsCluster {
    if (this.cluster === undefined) throw new Error('nats upload target: not started');
    return this.cluster;
  }
}
