import { crc32 } from './crc32.js';
import type { Prng } from './prng.js';

/** What a crash does to writes that were not yet synced. */
export interface CrashFaults {
  /** Chance that a prefix of the unsynced writes reached the platter anyway (OS write-back). */
  readonly unsyncedSurvivalRate: number;
  /** Chance that the write in flight at the crash lands half-written (a torn record). */
  readonly tornWriteRate: number;
}

export interface DiskCounters {
  writes: number;
  syncs: number;
  crashes: number;
  lostRecords: number;
  tornRecords: number;
}

/** A record is framed as [crc32 of payload: u32][payload length: u32][payload]. */
const headerBytes = 8;

/**
 * One node's disk, as an append-only log of framed records. `write` lands in a volatile buffer;
 * `sync` makes everything written so far durable; `crash` keeps only what was durable (plus what
 * the fault model lets through) and may leave a torn record at the tail. `recover` reads the
 * durable records back, stopping at the first record whose frame or checksum is broken, and cuts
 * that tail off, as a write-ahead log's recovery does.
 */
export class SimulatedDisk {
  private durable: Uint8Array[] = [];
  private volatile: Uint8Array[] = [];
  readonly counters: DiskCounters = { writes: 0, syncs: 0, crashes: 0, lostRecords: 0, tornRecords: 0 };

  /** @param recordsMax bound on records kept; the host checkpoints long before reaching it. */
  constructor(private readonly recordsMax = 100_000) {}

  write(payload: Uint8Array): void {
    if (this.durable.length + this.volatile.length >= this.recordsMax) {
      throw new Error(`disk exceeds recordsMax (${this.recordsMax}); the host must checkpoint`);
    }
    this.counters.writes++;
    this.volatile.push(frame(payload));
  }

  sync(): void {
    this.counters.syncs++;
    for (const record of this.volatile) this.durable.push(record);
    this.volatile = [];
  }

  /** Atomically replaces the whole durable content (write a new file, fsync, rename, fsync dir). */
  replaceAll(payloads: readonly Uint8Array[]): void {
    this.counters.syncs++;
    this.volatile = [];
    this.durable = payloads.map(frame);
  }

  get unsyncedCount(): number {
    return this.volatile.length;
  }

  get durableCount(): number {
    return this.durable.length;
  }

  /** The machine loses power: unsynced writes are lost, except what the fault model lets through. */
  crash(random: Prng, faults: CrashFaults): void {
    this.counters.crashes++;
    const pending = this.volatile;
    this.volatile = [];
    const survivorCount = random.chance(faults.unsyncedSurvivalRate) ? random.range(0, pending.length) : 0;
    for (const record of pending.slice(0, survivorCount)) this.durable.push(record);
    const inFlight = pending[survivorCount];
    this.counters.lostRecords += pending.length - survivorCount;
    if (inFlight !== undefined && random.chance(faults.tornWriteRate)) {
      // Some bytes of the next record reached the disk, but not all: recovery must notice.
      this.durable.push(inFlight.slice(0, random.range(1, inFlight.length - 1)));
    }
  }

  /** Reads back the durable records, discarding a torn tail. */
  recover(): { payloads: Uint8Array[]; tornDiscarded: number } {
    const payloads: Uint8Array[] = [];
    for (let position = 0; position < this.durable.length; position++) {
      const payload = unframe(this.durable[position] as Uint8Array);
      if (payload === undefined) {
        const tornDiscarded = this.durable.length - position;
        this.counters.tornRecords += tornDiscarded;
        this.durable = this.durable.slice(0, position);
        return { payloads, tornDiscarded };
      }
      payloads.push(payload);
    }
    return { payloads, tornDiscarded: 0 };
  }
}

function frame(payload: Uint8Array): Uint8Array {
  const record = new Uint8Array(headerBytes + payload.length);
  const view = new DataView(record.buffer);
  view.setUint32(0, crc32(payload));
  view.setUint32(4, payload.length);
  record.set(payload, headerBytes);
  return record;
}

/** The payload of an intact record, or undefined when the frame is short or the checksum fails. */
function unframe(record: Uint8Array): Uint8Array | undefined {
  if (record.length < headerBytes) return undefined;
  const view = new DataView(record.buffer, record.byteOffset, record.byteLength);
  const length = view.getUint32(4);
  if (record.length !== headerBytes + length) return undefined;
  const payload = record.slice(headerBytes);
  return crc32(payload) === view.getUint32(0) ? payload : undefined;
}
