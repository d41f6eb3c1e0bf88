import { encodeMetadataCommand, type MetadataCommand } from '../../src/controller/index.js';

/**
 * How a metadata command travels in a simulated log entry, beside the key-value proposals: a tag
 * byte, the proposal id (so the proposer can tell its own entry from another at the same index),
 * then the command exactly as the controller encodes it. The tag is 0xc1, the one byte msgpack
 * never uses, so no key-value proposal (a msgpack map) starts with it and those keep their bytes.
 */
const metadataEntryTag = 0xc1;
const headerBytes = 5;

export interface MetadataEntry {
  readonly proposalId: number;
  /** encodeMetadataCommand's bytes. */
  readonly command: Uint8Array;
}

export function encodeMetadataEntry(proposalId: number, command: MetadataCommand): Uint8Array {
  const body = encodeMetadataCommand(command);
  const data = new Uint8Array(headerBytes + body.length);
  data[0] = metadataEntryTag;
  new DataView(data.buffer).setUint32(1, proposalId);
  data.set(body, headerBytes);
  return data;
}

export function isMetadataEntry(data: Uint8Array): boolean {
  return data.length >= headerBytes && data[0] === metadataEntryTag;
}

export function decodeMetadataEntry(data: Uint8Array): MetadataEntry {
  if (!isMetadataEntry(data)) throw new Error(`entry data of ${data.length} bytes is not a metadata entry`);
  const proposalId = new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(1);
  return { proposalId, command: data.subarray(headerBytes) };
}
