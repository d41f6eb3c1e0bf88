import assert from 'node:assert/strict';
import { compressSync as lz4Compress, uncompressSync as lz4Decompress } from 'lz4-napi';
import zstdBinding from 'zstd-napi/binding.js';
import { TributaryError } from '../errors/index.js';
import { Codec } from './generated/tributary/common/v1/common.js';

/*
 * The codecs of a RecordBatch's `records` (docs/PROTOCOL.md, "Compression"), shared by the
 * producer's encoder, the consumer's decoder and the broker's checks, which is why it sits in
 * src/rpc beside the generated Codec it switches on rather than in rpc/clients or rpc/services.
 *
 * - lz4: lz4-napi (lz4_flex through napi-rs) in the LZ4 *block* format with its size prefix: the
 *   uncompressed length as a u32 little-endian, then one LZ4 block. The prefix lets the size be
 *   checked against `uncompressed_bytes` before anything is allocated, and the batch's CRC-32C
 *   already covers the bytes, so the frame format's header and checksums would be dead weight
 *   (and lz4-napi decodes frames at a fifth of its block speed).
 * - zstd: zstd-napi (libzstd compiled from the sources the package ships) at zstdLevel, one frame,
 *   decompressed in a single shot into a buffer of exactly `uncompressed_bytes`, so a frame that
 *   expands further fails inside libzstd instead of growing memory.
 *
 * Both run synchronously on the calling thread: a 128 KiB batch takes 0.1-0.4 ms of CPU either
 * way, too little to be worth handing to a worker.
 */

/**
 * The most bytes a batch's records may hold uncompressed: what one uncompressed batch may hold
 * (storage's batchPayloadBytesMax), so compression never lets a batch carry more records than it
 * could without it, and a decompression bomb never gets more memory than an honest batch.
 */
export const uncompressedRecordsBytesMax = 16 * 1024 * 1024;

/**
 * zstd level 1, not zstd's (and Kafka's) default 3: on 128 KiB record sets of sensor JSON it
 * compressed better (ratio 6.1 against 5.8) and faster (445 against 302 MiB per CPU second), and
 * incompressible values almost twice as fast (docs/BENCHMARKS.md, "compression").
 */
export const zstdLevel = 1;

/** Bytes of the little-endian uncompressed length in front of an LZ4 block. */
const lz4SizePrefixBytes = 4;

/**
 * One zstd context of each kind for the process, made on first use: creating one per batch costs
 * about as much as compressing a small batch. Sharing is safe because every call is synchronous.
 */
let zstdContexts: { compress: zstdBinding.CCtx; decompress: zstdBinding.DCtx } | undefined;

const codecNames: ReadonlyMap<Codec, string> = new Map([[Codec.NONE, 'none'], [Codec.LZ4, 'lz4'], [Codec.ZSTD, 'zstd']]);

/** The codec's name in messages, `lz4`; `codec 7` for a number that names none. */
export function codecName(codec: Codec): string {
  return codecNames.get(codec) ?? `codec ${codec}`;
}

/** Whether this build compresses and decompresses `codec`. */
export function isSupportedCodec(codec: Codec): boolean {
  return codecNames.has(codec);
}

/**
 * `records` compressed with `codec` (the same bytes for CODEC_NONE). INVALID_REQUEST naming the
 * size when the records exceed uncompressedRecordsBytesMax, which the other side would refuse.
 */
export function compressRecords(codec: Codec, records: Uint8Array): Uint8Array {
  assert.ok(isSupportedCodec(codec), `compressRecords takes a supported codec, got ${codec}`);
  if (records.byteLength > uncompressedRecordsBytesMax) {
    throw new TributaryError('INVALID_REQUEST', `a batch's records are ${records.byteLength} bytes uncompressed, more than the ${uncompressedRecordsBytesMax} one batch may hold; send smaller batches`);
  }
  if (codec === Codec.NONE) return records;
  if (codec === Codec.LZ4) return lz4Compress(asBuffer(records));
  const target = Buffer.allocUnsafe(zstdBinding.compressBound(records.byteLength));
  const written = contexts().compress.compress(target, records, zstdLevel);
  return target.subarray(0, written);
}

/**
 * The records of a batch compressed with `codec`, which must come to exactly `uncompressedBytes`.
 * Never allocates more than `uncompressedBytes`, itself at most uncompressedRecordsBytesMax, so a
 * small payload that expands without bound (a decompression bomb) is refused, not inflated.
 * CORRUPT_RECORD prefixed with `where` (which names the batch) for a size out of bounds or bytes
 * that do not decompress to that size.
 */
export function decompressRecords(codec: Codec, compressed: Uint8Array, uncompressedBytes: number, where: string): Uint8Array {
  assert.ok(isSupportedCodec(codec), `decompressRecords takes a supported codec, got ${codec}`);
  if (codec === Codec.NONE) return compressed;
  const name = codecName(codec);
  if (!Number.isSafeInteger(uncompressedBytes) || uncompressedBytes < 1 || uncompressedBytes > uncompressedRecordsBytesMax) {
    throw corrupt(where, `uncompressed_bytes ${uncompressedBytes} of a ${name} batch is outside 1..${uncompressedRecordsBytesMax}`);
  }
  const records = codec === Codec.LZ4 ? lz4Records(compressed, uncompressedBytes, where) : zstdRecords(compressed, uncompressedBytes, where);
  if (records.byteLength !== uncompressedBytes) {
    throw corrupt(where, `its ${name} records decompress to ${records.byteLength} bytes, not the ${uncompressedBytes} of uncompressed_bytes`);
  }
  return records;
}

/** The size prefix is checked first: lz4-napi allocates what it says, and refuses output beyond it. */
function lz4Records(compressed: Uint8Array, uncompressedBytes: number, where: string): Uint8Array {
  if (compressed.byteLength < lz4SizePrefixBytes) throw corrupt(where, `its lz4 records are ${compressed.byteLength} bytes, shorter than the ${lz4SizePrefixBytes}-byte size prefix`);
  const prefixBytes = new DataView(compressed.buffer, compressed.byteOffset, lz4SizePrefixBytes).getUint32(0, true);
  if (prefixBytes !== uncompressedBytes) throw corrupt(where, `its lz4 size prefix says ${prefixBytes} bytes, not the ${uncompressedBytes} of uncompressed_bytes`);
  try {
    return lz4Decompress(compressed);
  } catch (error) {
    throw corrupt(where, `its lz4 records do not decompress to ${uncompressedBytes} bytes (${reasonOf(error)})`);
  }
}

/** libzstd writes into a buffer of exactly the expected size and fails ("Destination buffer is too small") past it. */
function zstdRecords(compressed: Uint8Array, uncompressedBytes: number, where: string): Uint8Array {
  const target = Buffer.allocUnsafe(uncompressedBytes);
  try {
    return target.subarray(0, contexts().decompress.decompress(target, compressed));
  } catch (error) {
    throw corrupt(where, `its zstd records do not decompress to ${uncompressedBytes} bytes (${reasonOf(error)})`);
  }
}

function contexts(): { compress: zstdBinding.CCtx; decompress: zstdBinding.DCtx } {
  zstdContexts ??= { compress: new zstdBinding.CCtx(), decompress: new zstdBinding.DCtx() };
  return zstdContexts;
}

/** lz4-napi's types ask for a Buffer; a Buffer over the same memory costs no copy. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function corrupt(where: string, detail: string): TributaryError {
  return new TributaryError('CORRUPT_RECORD', `${where}: ${detail}`);
}
