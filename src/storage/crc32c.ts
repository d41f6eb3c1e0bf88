/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum Kafka record batches,
 * RocksDB blocks and the lifelog chunk protocol use. Node 20 has no built-in for it, so it is
 * computed here, slicing by 16: sixteen 256-entry tables (16 KiB, flattened into one array) let
 * the loop fold 16 bytes per step, read as four 32-bit words. Under the produce benchmark's load
 * CRC-32C was 11–17% of a node's busy time (docs/BENCHMARKS.md, "produce"): a megabyte batch is
 * checked about four times per node. Against the previous slicing by 8 with byte loads, medians of
 * 21 interleaved rounds on this loaded machine: 757 against 514 MB/s on 1 MiB (1.47 times), 1.42
 * times on 128 KiB, 1.16 times on 1 KiB.
 */
const castagnoliReflected = 0x82f63b78;
const tableEntries = 256;
const bytesPerStep = 16;
const bytesPerWord = 4;
const wordsPerStep = bytesPerStep / bytesPerWord;
const table = buildTable();
/**
 * A word load reads memory order as a little-endian number, which is what the tables expect. On a
 * big-endian host every byte goes through the byte-at-a-time loop: slower, still correct.
 */
const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** table[level * 256 + byte]: the CRC contribution of `byte` followed by `level` zero bytes. */
function buildTable(): Int32Array {
  const result = new Int32Array(bytesPerStep * tableEntries);
  for (let byte = 0; byte < tableEntries; byte++) {
    let value = byte;
    for (let bit = 0; bit < 8; bit++) value = value & 1 ? castagnoliReflected ^ (value >>> 1) : value >>> 1;
    result[byte] = value;
  }
  for (let entry = tableEntries; entry < result.length; entry++) {
    const previous = result[entry - tableEntries] as number;
    result[entry] = (result[previous & 0xff] as number) ^ (previous >>> 8);
  }
  return result;
}

/**
 * The CRC-32C of `bytes`. Pass the result for earlier bytes as `previous` to continue over a
 * stream: crc32c(b, crc32c(a)) === crc32c(a ‖ b).
 */
export function crc32c(bytes: Uint8Array, previous = 0): number {
  // A Uint32Array view must start at a multiple of 4 bytes: the bytes before that go one at a time.
  const headEnd = Math.min(bytes.length, (bytesPerWord - (bytes.byteOffset % bytesPerWord)) % bytesPerWord);
  let crc = byteAtATime(bytes, ~previous, 0, headEnd);
  const steps = littleEndian ? Math.floor((bytes.length - headEnd) / bytesPerStep) : 0;
  if (steps > 0) crc = wordSteps(new Uint32Array(bytes.buffer, bytes.byteOffset + headEnd, steps * wordsPerStep), crc);
  return ~byteAtATime(bytes, crc, headEnd + steps * bytesPerStep, bytes.length) >>> 0;
}

/** Folds `words` (a whole number of 16-byte steps) into `initial`, the running (inverted) CRC. */
function wordSteps(words: Uint32Array, initial: number): number {
  const t = table;
  let crc = initial;
  for (let index = 0; index < words.length; index += wordsPerStep) {
    const first = (words[index] as number) ^ crc;
    const second = words[index + 1] as number;
    const third = words[index + 2] as number;
    const fourth = words[index + 3] as number;
    crc =
      (t[3840 + (first & 0xff)] as number) ^ (t[3584 + ((first >>> 8) & 0xff)] as number) ^
      (t[3328 + ((first >>> 16) & 0xff)] as number) ^ (t[3072 + (first >>> 24)] as number) ^
      (t[2816 + (second & 0xff)] as number) ^ (t[2560 + ((second >>> 8) & 0xff)] as number) ^
      (t[2304 + ((second >>> 16) & 0xff)] as number) ^ (t[2048 + (second >>> 24)] as number) ^
      (t[1792 + (third & 0xff)] as number) ^ (t[1536 + ((third >>> 8) & 0xff)] as number) ^
      (t[1280 + ((third >>> 16) & 0xff)] as number) ^ (t[1024 + (third >>> 24)] as number) ^
      (t[768 + (fourth & 0xff)] as number) ^ (t[512 + ((fourth >>> 8) & 0xff)] as number) ^
      (t[256 + ((fourth >>> 16) & 0xff)] as number) ^ (t[fourth >>> 24] as number);
  }
  return crc;
}

/** Folds bytes[start, end) one at a time into `crc`, the running (inverted) CRC. */
function byteAtATime(bytes: Uint8Array, crc: number, start: number, end: number): number {
  const t = table;
  let result = crc;
  for (let position = start; position < end; position++) result = (t[(result ^ (bytes[position] as number)) & 0xff] as number) ^ (result >>> 8);
  return result;
}

/**
 * x^(2^n) modulo the polynomial, for n = 0 … 31, in the reflected bit order: what crc32cCombine
 * multiplies by to shift a CRC past 2^n zero bits.
 */
const powersOfTwo = buildPowersOfTwo();

function buildPowersOfTwo(): Uint32Array {
  const powers = new Uint32Array(32);
  // x^1 in reflected order is bit 30.
  let power = 0x40000000;
  for (let n = 0; n < powers.length; n++) {
    powers[n] = power;
    power = multiplyModulo(power, power);
  }
  return powers;
}

/** a · b modulo the polynomial, in GF(2), both in reflected bit order. */
function multiplyModulo(a: number, b: number): number {
  let product = 0;
  let factor = b >>> 0;
  for (let mask = 0x80000000; mask !== 0; mask >>>= 1) {
    if ((a & mask) !== 0) product ^= factor;
    factor = factor & 1 ? (factor >>> 1) ^ castagnoliReflected : factor >>> 1;
  }
  return product >>> 0;
}

/** 2^28 bytes is x^(2^31) bits, the last power in the table; a batch is at most 16 MiB. */
const combineLengthMax = 2 ** 28;

/**
 * The CRC-32C of `a ‖ b` from the CRC-32C of `a`, that of `b` and the length of `b` (zlib's
 * crc32_combine, with the Castagnoli polynomial), without reading the bytes again: about 40
 * multiplications of 32 steps each for a megabyte, against a pass over every byte. It lets a
 * stored value's checksum reuse the CRC a batch arrived with (stored-batch.ts).
 */
export function crc32cCombine(crcA: number, crcB: number, lengthB: number): number {
  if (!Number.isSafeInteger(lengthB) || lengthB < 0 || lengthB > combineLengthMax) throw new RangeError(`lengthB must be an integer from 0 to ${combineLengthMax}, got ${lengthB}`);
  // Shift crcA past lengthB bytes of zeros: multiply by x^(8 · lengthB), one power of two per set bit.
  let shift = 0x80000000;
  let remaining = lengthB;
  for (let n = 3; remaining > 0; n++, remaining = Math.floor(remaining / 2)) {
    if (remaining % 2 === 1) shift = multiplyModulo(powersOfTwo[n] as number, shift);
  }
  return (multiplyModulo(shift, crcA >>> 0) ^ crcB) >>> 0;
}
