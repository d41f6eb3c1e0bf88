import type { KeyValueOperation } from '../key-value-store.js';

/*
 * One caller's write as a single byte buffer, so the main thread hands it to the write thread by
 * transferring one ArrayBuffer. A structured clone would instead copy every key and value object
 * and, for a view into a larger buffer, that whole buffer. Packing at call time also copies the
 * bytes at once, so a caller changing them afterwards cannot change what is written.
 *
 * Layout per operation: kind u8 (1 put, 0 del), key length u32, key, and for a put value length
 * u32, value; numbers big-endian.
 */

const putKind = 1;
const deleteKind = 0;
const kindBytes = 1;
const lengthBytes = 4;

/** What the binding takes: Buffers that are views into the transferred buffer, no copies. */
export interface UnpackedOperation {
  readonly type: 'put' | 'del';
  readonly key: Buffer;
  readonly value?: Buffer;
}

export function packedWriteBatchBytes(operations: readonly KeyValueOperation[]): number {
  let bytes = 0;
  for (const operation of operations) {
    bytes += kindBytes + lengthBytes + operation.key.byteLength;
    if (operation.type === 'put') bytes += lengthBytes + operation.value.byteLength;
  }
  return bytes;
}

export function packWriteBatch(operations: readonly KeyValueOperation[]): ArrayBuffer {
  const packed = new Uint8Array(packedWriteBatchBytes(operations));
  const view = new DataView(packed.buffer);
  let position = 0;
  const putBytes = (bytes: Uint8Array): void => {
    view.setUint32(position, bytes.byteLength);
    packed.set(bytes, position + lengthBytes);
    position += lengthBytes + bytes.byteLength;
  };
  for (const operation of operations) {
    view.setUint8(position, operation.type === 'put' ? putKind : deleteKind);
    position += kindBytes;
    putBytes(operation.key);
    if (operation.type === 'put') putBytes(operation.value);
  }
  return packed.buffer;
}

export function unpackWriteBatch(packed: ArrayBuffer): UnpackedOperation[] {
  const view = new DataView(packed);
  const operations: UnpackedOperation[] = [];
  let position = 0;
  const takeBytes = (): Buffer => {
    const length = view.getUint32(position);
    const bytes = Buffer.from(packed, position + lengthBytes, length);
    position += lengthBytes + length;
    return bytes;
  };
  while (position < packed.byteLength) {
    const kind = view.getUint8(position);
    position += kindBytes;
    if (kind !== putKind && kind !== deleteKind) throw new Error(`packed write batch: unknown operation kind ${kind} at byte ${position - kindBytes}`);
    const key = takeBytes();
    operations.push(kind === putKind ? { type: 'put', key, value: takeBytes() } : { type: 'del', key });
  }
  return operations;
}
