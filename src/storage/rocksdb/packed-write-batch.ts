import type { KeyValueOperation } from '../key-value-store.js';

/*
 * One caller's write as a single byte buffer, so the main thread hands it to the write thread by
 * transferring one ArrayBuffer. A structured clone would instead copy every key and value object
 * and, for a view into a larger buffer, that whole buffer. Packing at call time also copies the
 * bytes at once, so a caller changing them afterwards cannot change what is written.
 *
 * Layout per operation: kind u8 (1 put, 0 del, 2 put of a handed-over value), key length u32,
 * key, and for a put value length u32, value; for a handed-over value its index u32 in `values`.
 * numbers big-endian.
 *
 * A large value its caller handed over (`handOver`, the partition log's batches) is not copied:
 * its own ArrayBuffer goes to the write thread in the transfer list beside the packed bytes. That
 * takes one megabyte copy and allocation off every replica's write of a megabyte batch.
 */

const putKind = 1;
const deleteKind = 0;
const handedOverKind = 2;
/** Smaller values are copied: a transfer costs more than copying a few KiB. */
export const handOverValueBytesMin = 64 * 1024;
const kindBytes = 1;
const lengthBytes = 4;

/** What the binding takes: Buffers that are views into the transferred buffer, no copies. */
export interface UnpackedOperation {
  readonly type: 'put' | 'del';
  readonly key: Buffer;
  readonly value?: Buffer;
}

/** One caller's write as the write thread takes it: the packed operations, and the values handed over whole. */
export interface PackedWriteBatch {
  readonly packed: ArrayBuffer;
  readonly values: readonly ArrayBuffer[];
}

/** Bytes a packed write carries, the handed-over values included. */
export function packedWriteBatchBytes(batch: PackedWriteBatch): number {
  return batch.values.reduce((total, value) => total + value.byteLength, batch.packed.byteLength);
}

/** A put whose value can travel as its own buffer: handed over, large, and alone in that buffer. */
function handedOver(operation: KeyValueOperation): ArrayBuffer | undefined {
  if (operation.type !== 'put' || operation.handOver !== true || operation.value.byteLength < handOverValueBytesMin) return undefined;
  const { value } = operation;
  const whole = value.buffer instanceof ArrayBuffer && value.byteOffset === 0 && value.byteLength === value.buffer.byteLength;
  return whole ? value.buffer : undefined;
}

function packedBytes(operations: readonly KeyValueOperation[], values: ReadonlyArray<ArrayBuffer | undefined>): number {
  let bytes = 0;
  operations.forEach((operation, index) => {
    bytes += kindBytes + lengthBytes + operation.key.byteLength;
    if (operation.type === 'put') bytes += lengthBytes + (values[index] === undefined ? operation.value.byteLength : 0);
  });
  return bytes;
}

export function packWriteBatch(operations: readonly KeyValueOperation[]): PackedWriteBatch {
  const candidates = operations.map(handedOver);
  const packed = new Uint8Array(packedBytes(operations, candidates));
  const view = new DataView(packed.buffer);
  const values: ArrayBuffer[] = [];
  let position = 0;
  const putBytes = (bytes: Uint8Array): void => {
    view.setUint32(position, bytes.byteLength);
    packed.set(bytes, position + lengthBytes);
    position += lengthBytes + bytes.byteLength;
  };
  operations.forEach((operation, index) => {
    const value = candidates[index];
    view.setUint8(position, operation.type === 'del' ? deleteKind : value === undefined ? putKind : handedOverKind);
    position += kindBytes;
    putBytes(operation.key);
    if (operation.type === 'del') return;
    if (value === undefined) return putBytes(operation.value);
    view.setUint32(position, values.length);
    position += lengthBytes;
    values.push(value);
  });
  return { packed: packed.buffer, values };
}

export function unpackWriteBatch(batch: PackedWriteBatch): UnpackedOperation[] {
  const { packed, values } = batch;
  const view = new DataView(packed);
  const operations: UnpackedOperation[] = [];
  let position = 0;
  const takeBytes = (): Buffer => {
    const length = view.getUint32(position);
    const bytes = Buffer.from(packed, position + lengthBytes, length);
    position += lengthBytes + length;
    return bytes;
  };
  const takeHandedOver = (): Buffer => {
    const index = view.getUint32(position);
    position += lengthBytes;
    const value = values[index];
    if (value === undefined) throw new Error(`packed write batch: handed-over value ${index} is missing (${values.length} sent)`);
    return Buffer.from(value);
  };
  while (position < packed.byteLength) {
    const kind = view.getUint8(position);
    position += kindBytes;
    if (kind !== putKind && kind !== deleteKind && kind !== handedOverKind) throw new Error(`packed write batch: unknown operation kind ${kind} at byte ${position - kindBytes}`);
    const key = takeBytes();
    if (kind === deleteKind) operations.push({ type: 'del', key });
    else operations.push({ type: 'put', key, value: kind === putKind ? takeBytes() : takeHandedOver() });
  }
  return operations;
}
