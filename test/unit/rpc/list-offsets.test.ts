import { describe, expect, it } from 'vitest';
import { type CompressionCodec, encodeRecordBatch } from '../../../src/rpc/clients/index.js';
import { ErrorCode } from '../../../src/rpc/generated/tributary/common/v1/common.js';
import { type ListOffsetsResult, OffsetSpec } from '../../../src/rpc/generated/tributary/client/v1/consumer_service.js';
import type { BrokerServiceSettings } from '../../../src/rpc/services/broker-service-settings.js';
import { listOffsets } from '../../../src/rpc/services/list-offsets.js';
import { GroupCommitWriter, MemoryKeyValueStore, openPartitionLog } from '../../../src/storage/index.js';
import { batchOf } from '../../support/data-plane-calls.js';
import { alone, appendWire, ServedPartitions, withFollower } from '../../support/served-partitions.js';

/** A batch whose records carry these timestamps, in this offset order, compressed with `compression`. */
const stampedWith = (compression: CompressionCodec, ...timestampsMs: number[]) =>
  encodeRecordBatch(timestampsMs.map((timestampMs) => ({ value: new Uint8Array([1]), timestampMs })), undefined, compression);

async function resolve(served: ServedPartitions, spec: OffsetSpec, timestampMs = 0, partition = 0): Promise<ListOffsetsResult> {
  const response = await listOffsets({ header: undefined, partitions: [{ topicPartition: { topic: 'orders', partition }, spec, timestampMs, currentLeaderEpoch: 0 }] }, { partitions: served.partitions, settings: served.settings, logger: served.log.logger });
  const [result] = response.results;
  if (result === undefined) throw new Error('no result');
  return result;
}

const fields = (result: ListOffsetsResult) => [result.offset, result.timestampMs, result.leaderEpoch, result.logStartOffset, result.highWatermark, result.logEndOffset, result.error?.code ?? 'OK'];

async function servedWith(settings: Partial<BrokerServiceSettings> = {}, compression: CompressionCodec = 'none') {
  const served = new ServedPartitions(settings);
  const leader = await served.lead(0, withFollower);
  // Offsets 0-2 at times 100, 300, 200; offsets 3-4 at 500, 400; offset 5 above the high watermark at 900.
  await appendWire(leader, stampedWith(compression, 100, 300, 200));
  await appendWire(leader, stampedWith(compression, 500, 400));
  await appendWire(leader, stampedWith(compression, 900));
  leader.followerFetched(2, { fetchOffset: 6, durableEndOffset: 5 });
  return served;
}

describe('ListOffsets', () => {
  it('EARLIEST is the log start with its batch epoch; LATEST is the high watermark, not the log end', async () => {
    const served = await servedWith();
    expect(fields(await resolve(served, OffsetSpec.EARLIEST))).toEqual([0, -1, 4, 0, 5, 6, 'OK']);
    expect(fields(await resolve(served, OffsetSpec.LATEST))).toEqual([5, -1, 4, 0, 5, 6, 'OK']);
  });

  it('TIMESTAMP finds the first offset at or after the time among records below the high watermark', async () => {
    const served = await servedWith();
    // Timestamps need not grow with offsets: 250 is first reached at offset 1 (300), not offset 2 (200).
    expect(fields(await resolve(served, OffsetSpec.TIMESTAMP, 250))).toEqual([1, 300, 4, 0, 5, 6, 'OK']);
    expect(fields(await resolve(served, OffsetSpec.TIMESTAMP, 0))).toEqual([0, 100, 4, 0, 5, 6, 'OK']);
    expect(fields(await resolve(served, OffsetSpec.TIMESTAMP, 450))).toEqual([3, 500, 4, 0, 5, 6, 'OK']);
    // Offset 5 (900) is above the high watermark: not found, so the answer is the high watermark.
    expect(fields(await resolve(served, OffsetSpec.TIMESTAMP, 600))).toEqual([5, -1, 4, 0, 5, 6, 'OK']);
  });

  it('TIMESTAMP searches lz4 and zstd batches by decompressing them', async () => {
    for (const compression of ['lz4', 'zstd'] as const) {
      const served = await servedWith({}, compression);
      expect(fields(await resolve(served, OffsetSpec.TIMESTAMP, 250))).toEqual([1, 300, 4, 0, 5, 6, 'OK']);
      expect(fields(await resolve(served, OffsetSpec.TIMESTAMP, 450))).toEqual([3, 500, 4, 0, 5, 6, 'OK']);
    }
  });

  it('gives up a timestamp search after the scan bound, naming where to fetch from', async () => {
    const served = await servedWith({ timestampScanBytesMax: 1, timestampScanReadBytes: 1 });
    const result = await resolve(served, OffsetSpec.TIMESTAMP, 450);
    expect(result.error?.code).toBe(ErrorCode.RESOURCE_EXHAUSTED);
    expect(result.error?.message).toMatch(/^partition "orders-0": no record at or after timestamp 450 in the \d+ bytes from offset 0 to 3; a timestamp search reads at most 1 bytes, so fetch from offset 3 instead$/);
  });

  it('refuses an unspecified spec and a negative timestamp per partition, and answers a partition led elsewhere NOT_LEADER', async () => {
    const served = await servedWith();
    expect((await resolve(served, OffsetSpec.UNSPECIFIED)).error?.message).toBe('spec OFFSET_SPEC_UNSPECIFIED (0) is never sent; send OFFSET_SPEC_EARLIEST, OFFSET_SPEC_LATEST or OFFSET_SPEC_TIMESTAMP');
    expect((await resolve(served, OffsetSpec.TIMESTAMP, -1)).error?.message).toBe('timestamp_ms -1 is negative; timestamps are milliseconds since the Unix epoch');
    expect((await resolve(served, OffsetSpec.LATEST, 0, 1)).error).toMatchObject({ code: ErrorCode.NOT_LEADER, leaderHint: { nodeId: 2 } });
  });

  it('answers NOT_AVAILABLE while a new leader has not published a high watermark (KIP-207)', async () => {
    const served = new ServedPartitions();
    const engine = new MemoryKeyValueStore();
    const log = await openPartitionLog(engine, new GroupCommitWriter(engine, { durability: 'fsync' }), { topic: 'orders', partition: 0 });
    await appendWire(await served.lead(0, alone, log), batchOf(['a']));
    // A new epoch over the same log, whose follower has not caught up to the epoch start yet.
    await served.lead(0, withFollower, log);
    const result = await resolve(served, OffsetSpec.EARLIEST);
    expect([result.error?.code, result.error?.retriable]).toEqual([ErrorCode.NOT_AVAILABLE, true]);
  });
});
