import { describe, expect, it } from 'vitest';
import { Prng } from './prng.js';
import { SimulatedDisk } from './simulated-disk.js';

const bytes = (...values: number[]) => Uint8Array.from(values);
const noFaults = { unsyncedSurvivalRate: 0, tornWriteRate: 0 };

describe('SimulatedDisk', () => {
  it('keeps synced records across a crash and loses unsynced ones', () => {
    const disk = new SimulatedDisk();
    disk.write(bytes(1));
    disk.write(bytes(2, 2));
    disk.sync();
    disk.write(bytes(3));
    disk.crash(new Prng(1), noFaults);
    expect(disk.recover()).toEqual({ payloads: [bytes(1), bytes(2, 2)], tornDiscarded: 0 });
    expect(disk.counters).toMatchObject({ writes: 3, syncs: 1, crashes: 1, lostRecords: 1 });
  });

  it('tears the write in flight at a crash; recovery detects it, discards it and cuts it off', () => {
    const disk = new SimulatedDisk();
    disk.write(bytes(1));
    disk.sync();
    disk.write(bytes(9, 9, 9, 9, 9, 9));
    disk.crash(new Prng(2), { unsyncedSurvivalRate: 0, tornWriteRate: 1 });
    expect(disk.durableCount).toBe(2);
    expect(disk.recover()).toEqual({ payloads: [bytes(1)], tornDiscarded: 1 });
    expect(disk.durableCount).toBe(1);
    disk.write(bytes(4));
    disk.sync();
    expect(disk.recover().payloads).toEqual([bytes(1), bytes(4)]);
  });

  it('detects a corrupted record by its checksum even when its length is intact', () => {
    const disk = new SimulatedDisk();
    disk.write(bytes(1, 2, 3));
    disk.sync();
    const durable = (disk as unknown as { durable: Uint8Array[] }).durable;
    const record = durable[0] as Uint8Array;
    record[record.length - 1] = 0xff;
    expect(disk.recover()).toEqual({ payloads: [], tornDiscarded: 1 });
  });

  it('may let a prefix of unsynced writes survive, never a later write without an earlier one', () => {
    for (let seed = 0; seed < 50; seed++) {
      const disk = new SimulatedDisk();
      for (let record = 0; record < 5; record++) disk.write(bytes(record));
      disk.crash(new Prng(seed), { unsyncedSurvivalRate: 1, tornWriteRate: 0.5 });
      const { payloads } = disk.recover();
      expect(payloads).toEqual([0, 1, 2, 3, 4].slice(0, payloads.length).map((record) => bytes(record)));
    }
  });

  it('replaces its content atomically on a checkpoint', () => {
    const disk = new SimulatedDisk();
    disk.write(bytes(1));
    disk.replaceAll([bytes(7)]);
    disk.crash(new Prng(3), noFaults);
    expect(disk.recover().payloads).toEqual([bytes(7)]);
  });

  it('bounds its record count', () => {
    const disk = new SimulatedDisk(2);
    disk.write(bytes(1));
    disk.write(bytes(2));
    expect(() => disk.write(bytes(3))).toThrow(/recordsMax/);
  });
});
