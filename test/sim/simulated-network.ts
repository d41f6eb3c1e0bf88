import { Partition } from './partition.js';
import type { Prng } from './prng.js';

/** How one directed link behaves; the swarm draws these per run and varies them per link. */
export interface LinkOptions {
  readonly delayMsMin: number;
  readonly delayMsMax: number;
  readonly dropRate: number;
  readonly duplicateRate: number;
  /** Chance a message is held back by up to `reorderDelayMsMax` more, so later ones overtake it. */
  readonly reorderRate: number;
  readonly reorderDelayMsMax: number;
}

export interface Addressed {
  readonly from: number;
  readonly to: number;
}

/** One copy of a sent message and when it arrives; the simulator schedules it. */
export interface Delivery<M> {
  readonly delayMs: number;
  readonly message: M;
}

export interface NetworkCounters {
  sent: number;
  dropped: number;
  duplicated: number;
  cut: number;
}

/** Duplicates of one message are bounded: a message is delivered at most this many times. */
export const copiesPerMessageMax = 2;

/**
 * The simulated network: it decides, per message, whether and when each copy arrives. It never
 * hands the receiver the sender's object: every copy goes through `clone`, so nodes share nothing.
 * Partitions are checked at send AND at delivery, so a cut also loses what was in flight.
 */
export class SimulatedNetwork<M extends Addressed> {
  private readonly links = new Map<string, LinkOptions>();
  private partition = Partition.none();
  /** In the liveness phase: no drops, and no delay above this bound. */
  private quietDelayMsMax: number | undefined;
  readonly counters: NetworkCounters = { sent: 0, dropped: 0, duplicated: 0, cut: 0 };

  constructor(
    private readonly random: Prng,
    private readonly linkOptionsOf: (from: number, to: number) => LinkOptions,
    private readonly clone: (message: M) => M,
  ) {}

  /** The copies of `message` that will arrive, each with its own delay (none when dropped). */
  send(message: M): Array<Delivery<M>> {
    this.counters.sent++;
    if (this.partition.blocks(message.from, message.to)) {
      this.counters.cut++;
      return [];
    }
    const link = this.link(message.from, message.to);
    if (this.quietDelayMsMax === undefined && this.random.chance(link.dropRate)) {
      this.counters.dropped++;
      return [];
    }
    const copies = this.random.chance(link.duplicateRate) ? copiesPerMessageMax : 1;
    if (copies > 1) this.counters.duplicated++;
    const deliveries: Array<Delivery<M>> = [];
    for (let copy = 0; copy < copies; copy++) deliveries.push({ delayMs: this.delayMs(link), message: this.clone(message) });
    return deliveries;
  }

  /** Whether a copy in flight may still be delivered now (the link may have been cut since). */
  canDeliver(from: number, to: number): boolean {
    if (!this.partition.blocks(from, to)) return true;
    this.counters.cut++;
    return false;
  }

  setPartition(partition: Partition): void {
    this.partition = partition;
  }

  heal(): void {
    this.partition = Partition.none();
  }

  get currentPartition(): Partition {
    return this.partition;
  }

  /**
   * In the liveness phase the network stops dropping and keeps delays under `delayMsMax` (Raft is
   * only live when round trips are well under the election timeout); it still reorders within that
   * bound and duplicates. `undefined` turns the faults back on.
   */
  setQuiet(delayMsMax: number | undefined): void {
    this.quietDelayMsMax = delayMsMax;
  }

  private delayMs(link: LinkOptions): number {
    let delayMs = this.random.range(link.delayMsMin, link.delayMsMax);
    if (this.random.chance(link.reorderRate)) delayMs += this.random.range(0, link.reorderDelayMsMax);
    return this.quietDelayMsMax === undefined ? delayMs : Math.min(delayMs, this.quietDelayMsMax);
  }

  private link(from: number, to: number): LinkOptions {
    const key = `${from}>${to}`;
    let link = this.links.get(key);
    if (link === undefined) {
      link = this.linkOptionsOf(from, to);
      this.links.set(key, link);
    }
    return link;
  }
}
