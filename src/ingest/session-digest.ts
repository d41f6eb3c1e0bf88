import type { HashFactory } from './ingest-types.js';

/** One final source as the session digest covers it. */
export interface DigestedSource {
  readonly name: string;
  readonly lengthBytes: number;
  readonly sha256Hex: string;
}

const utf8 = new TextEncoder();

/**
 * The session digest the catalog records (ingest_types.proto SessionInfo.session_sha256): SHA-256
 * over, for each source in ascending byte order of name, the UTF-8 name, one 0x00 byte, the source
 * length as 8 bytes big-endian, and the source's 32-byte SHA-256.
 */
export function sessionDigestHex(sources: readonly DigestedSource[], createHash: HashFactory): string {
  const ordered = sources.map((source) => ({ ...source, nameBytes: utf8.encode(source.name) })).sort((left, right) => compareBytes(left.nameBytes, right.nameBytes));
  const hash = createHash();
  for (const source of ordered) {
    const length = new Uint8Array(8);
    new DataView(length.buffer).setBigUint64(0, BigInt(source.lengthBytes));
    hash.update(source.nameBytes);
    hash.update(new Uint8Array([0]));
    hash.update(length);
    hash.update(bytesOfHex(source.sha256Hex));
  }
  return hexOf(hash.digest());
}

export function hexOf(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes) text += byte.toString(16).padStart(2, '0');
  return text;
}

export function bytesOfHex(hex: string): Uint8Array {
  if (!/^([0-9a-f]{2})*$/.test(hex)) throw new Error(`"${hex}" is not lowercase hex of whole bytes`);
  const bytes = new Uint8Array(hex.length / 2);
  for (let index = 0; index < bytes.length; index += 1) bytes[index] = Number.parseInt(hex.slice(index * 2, index * 2 + 2), 16);
  return bytes;
}

function compareBytes(left: Uint8Array, right: Uint8Array): number {
  const length = Math.min(left.length, right.length);
  for (let index = 0; index < length; index += 1) {
    const difference = (left[index] as number) - (right[index] as number);
    if (difference !== 0) return difference;
  }
  return left.length - right.length;
}
