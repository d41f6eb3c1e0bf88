/** How records are grouped into batches per partition. */
export interface BatchLimits {
  /** A batch is closed before a record would take it past this many bytes (a larger record goes alone). */
  readonly batchBytesMax: number;
  /** A batch is closed when it holds this many records. */
  readonly batchRecordsMax: number;
  /** An open batch is sent this long after its first record at the latest, full or not. */
  readonly lingerMs: number;
}

/** A batch that takes no more records, ready to send in its partition's order. */
export interface ClosedBatch<Item> {
  readonly topic: string;
  readonly partition: number;
  readonly items: Item[];
  readonly sizeBytes: number;
  readonly createdAtMs: number;
}

interface OpenBatch<Item> {
  items: Item[];
  sizeBytes: number;
  createdAtMs: number;
}

interface PartitionQueue<Item> {
  readonly topic: string;
  readonly partition: number;
  /** Closed batches in append order. Bounded by the producer's byte budget, which every item holds a share of. */
  readonly closed: ClosedBatch<Item>[];
  open: OpenBatch<Item> | undefined;
}

/**
 * Records waiting to be sent, one queue per partition: an open batch taking records, and closed
 * batches behind it in order. Pure bookkeeping over the times it is given; the producer owns the
 * timers and the sending. Order within a partition is append order, batch by batch.
 */
export class RecordAccumulator<Item> {
  private readonly queues = new Map<string, PartitionQueue<Item>>();

  constructor(private readonly limits: BatchLimits) {
    for (const [name, value] of Object.entries(limits)) {
      if (!Number.isSafeInteger(value) || (value as number) < (name === 'lingerMs' ? 0 : 1)) throw new RangeError(`${name} must be a ${name === 'lingerMs' ? 'non-negative' : 'positive'} integer, got ${String(value)}`);
    }
  }

  /**
   * Adds one record of `sizeBytes` to its partition's open batch. Returns true when this closed a
   * batch of that partition (the open one was full), which is when a sticky partitioner moves on.
   */
  append(topic: string, partition: number, item: Item, sizeBytes: number, nowMs: number): boolean {
    const queue = this.queueOf(topic, partition);
    let closedOne = false;
    const open = queue.open;
    if (open !== undefined && open.sizeBytes + sizeBytes > this.limits.batchBytesMax) {
      this.close(queue);
      closedOne = true;
    }
    const target = queue.open ?? { items: [], sizeBytes: 0, createdAtMs: nowMs };
    queue.open = target;
    target.items.push(item);
    target.sizeBytes += sizeBytes;
    if (target.items.length >= this.limits.batchRecordsMax || target.sizeBytes >= this.limits.batchBytesMax) {
      this.close(queue);
      closedOne = true;
    }
    return closedOne;
  }

  /**
   * The next batch of the partition to send, removed from the queue: the oldest closed batch, else
   * the open batch once it has lingered `lingerMs` (or at once when `flushing`).
   */
  takeReady(topic: string, partition: number, nowMs: number, flushing: boolean): ClosedBatch<Item> | undefined {
    const queue = this.queues.get(keyOf(topic, partition));
    if (queue === undefined) return undefined;
    const open = queue.open;
    if (queue.closed.length === 0 && open !== undefined && (flushing || nowMs >= open.createdAtMs + this.limits.lingerMs)) this.close(queue);
    const batch = queue.closed.shift();
    if (queue.closed.length === 0 && queue.open === undefined) this.queues.delete(keyOf(topic, partition));
    return batch;
  }

  /** Partitions holding records, in the order they first got one. */
  partitions(): Array<{ topic: string; partition: number }> {
    return [...this.queues.values()].map(({ topic, partition }) => ({ topic, partition }));
  }

  /**
   * The earliest time an open batch's linger ends, among partitions `waiting` does not exclude
   * (one with a request in flight sends nothing before it ends anyway); undefined when none.
   */
  nextLingerDeadlineMs(waiting: (topic: string, partition: number) => boolean = () => false): number | undefined {
    let earliest: number | undefined;
    for (const queue of this.queues.values()) {
      if (queue.open === undefined || waiting(queue.topic, queue.partition)) continue;
      const deadline = queue.open.createdAtMs + this.limits.lingerMs;
      earliest = earliest === undefined ? deadline : Math.min(earliest, deadline);
    }
    return earliest;
  }

  get isEmpty(): boolean {
    return this.queues.size === 0;
  }

  private queueOf(topic: string, partition: number): PartitionQueue<Item> {
    const key = keyOf(topic, partition);
    const existing = this.queues.get(key);
    if (existing !== undefined) return existing;
    const queue: PartitionQueue<Item> = { topic, partition, closed: [], open: undefined };
    this.queues.set(key, queue);
    return queue;
  }

  private close(queue: PartitionQueue<Item>): void {
    const open = queue.open;
    if (open === undefined) return;
    queue.closed.push({ topic: queue.topic, partition: queue.partition, ...open });
    queue.open = undefined;
  }
}

/** The map key of a partition; topic names cannot hold a NUL, so no two partitions share one. */
export function keyOf(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
