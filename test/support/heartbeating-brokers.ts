import { randomUUID } from 'node:crypto';
import { ControllerBrokerClient, defaultClientOptions } from '../../src/rpc/clients/index.js';

/** A failed heartbeat is retried on the next interval; this many in a row fail the fixture. */
const consecutiveFailuresMax = 50;

/**
 * Broker sessions without a data plane, for tests and benchmarks of the controller quorum alone:
 * each id registers through ControllerBrokerService and heartbeats at the interval the controller
 * asks for, following the leader through failovers like a real broker's lifecycle does. Topics
 * need live brokers to be placed on.
 */
export class HeartbeatingBrokers {
  private readonly client: ControllerBrokerClient;
  private readonly timers = new Set<NodeJS.Timeout>();
  private failures = 0;
  private stopped = false;

  constructor(bootstrap: readonly string[]) {
    this.client = new ControllerBrokerClient({ ...defaultClientOptions('test-brokers'), deadlineMs: 2_000, bootstrap });
  }

  /** Registers brokers `ids` and starts their heartbeats; resolves once each has been answered once. */
  async start(ids: readonly number[]): Promise<void> {
    for (const nodeId of ids) {
      const registered = await this.client.register({ nodeId, address: `127.0.0.1:${20_000 + nodeId}`, rack: `rack-${nodeId % 3}`, incarnationId: randomUUID() });
      const beat = async (): Promise<number> => {
        const answer = await this.client.heartbeat({ nodeId, brokerEpoch: registered.brokerEpoch, metadataVersion: Math.max(registered.metadataVersion, 1) });
        return answer.heartbeatIntervalMs;
      };
      this.schedule(beat, await beat());
    }
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.client.close();
  }

  private schedule(beat: () => Promise<number>, intervalMs: number): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      beat().then(
        (nextIntervalMs) => {
          this.failures = 0;
          this.schedule(beat, nextIntervalMs);
        },
        () => {
          this.failures++;
          if (this.failures <= consecutiveFailuresMax) this.schedule(beat, intervalMs);
        },
      );
    }, intervalMs);
    this.timers.add(timer);
  }
}
