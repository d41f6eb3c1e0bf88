import { TributaryError } from '../errors/index.js';
import { crc32c } from './crc32c.js';

/**
 * Every stored value is framed as [CRC-32C of the rest, 4 bytes big-endian][payload], so a flipped
 * bit on disk is caught when read and reported as CORRUPT_RECORD, never passed on.
 */
export const checksumBytes = 4;

export function checksumValue(payload: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(checksumBytes + payload.byteLength);
  bytes.set(payload, checksumBytes);
  return sealChecksummedValue(bytes);
}

/**
 * Writes the checksum of `bytes` after its first checksumBytes into those first bytes, and returns
 * `bytes`: for a caller that built its payload behind the checksum's room, so a megabyte batch is
 * not copied once more to be framed.
 */
export function sealChecksummedValue(bytes: Uint8Array): Uint8Array {
  if (bytes.byteLength < checksumBytes) throw new RangeError(`a checksummed value needs at least ${checksumBytes} bytes, got ${bytes.byteLength}`);
  new DataView(bytes.buffer, bytes.byteOffset, checksumBytes).setUint32(0, crc32c(bytes.subarray(checksumBytes)));
  return bytes;
}

/**
 * The payload of a checksummed value. `where` names the record in the error (`partition "t-3"
 * offset 1234`), because an operator has to find it.
 */
export function verifyChecksummedValue(bytes: Uint8Array, where: string): Uint8Array {
  if (bytes.byteLength < checksumBytes) {
    throw corruptRecord(where, `the stored value is ${bytes.byteLength} bytes, shorter than its ${checksumBytes}-byte checksum`);
  }
  const payload = bytes.subarray(checksumBytes);
  const stored = new DataView(bytes.buffer, bytes.byteOffset, checksumBytes).getUint32(0);
  const computed = crc32c(payload);
  if (stored !== computed) {
    throw corruptRecord(where, `stored CRC-32C ${hex(stored)} does not match the bytes (${hex(computed)})`);
  }
  return payload;
}

export function corruptRecord(where: string, detail: string): TributaryError {
  return new TributaryError('CORRUPT_RECORD', `${where}: ${detail}; the record is not returned (restore it from a replica or a backup)`);
}

function hex(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}
