import { crc32c } from '../storage/crc32c.js';

/**
 * How every entry of a collector queue segment is laid out on disk:
 *
 *   [CRC-32C u32 BE][body length u32 BE][format version u8][entry kind u8][body]
 *
 * The CRC covers everything after itself (length, version, kind and body), so a torn or flipped
 * length is caught like a torn body. A frame whose CRC holds but whose version is unknown was
 * written by other software, which is an error, not a torn tail.
 */
export const queueFrameVersion = 1;
export const queueFrameHeaderBytes = 10;

/** The kinds of entry a frame holds (queue-entry.ts gives each its body). */
export const queueEntryKinds = { checkpoint: 1, session: 2, data: 3, final: 4, ack: 5, drop: 6 } as const;
export type QueueEntryKind = keyof typeof queueEntryKinds;

/** A frame read back whole: its kind code and body. */
export interface QueueFrame {
  readonly kindCode: number;
  readonly body: Uint8Array;
  readonly frameBytes: number;
}

/** Why the bytes at a position are not a frame; `torn` ones may end a crashed segment. */
export interface QueueFrameDamage {
  readonly reason: string;
  readonly torn: boolean;
}

/** The frame's buffers, header first, for one vectored write; `body` parts are not copied. */
export function encodeQueueFrame(kindCode: number, body: readonly Uint8Array[]): Uint8Array[] {
  const bodyBytes = body.reduce((sum, part) => sum + part.length, 0);
  const header = new Uint8Array(queueFrameHeaderBytes);
  const view = new DataView(header.buffer);
  view.setUint32(4, bodyBytes);
  header[8] = queueFrameVersion;
  header[9] = kindCode;
  let crc = crc32c(header.subarray(4));
  for (const part of body) crc = crc32c(part, crc);
  view.setUint32(0, crc);
  return [header, ...body];
}

/** Decodes the frame starting at `position` of `bytes`, checking its length, CRC and version. */
export function decodeQueueFrame(bytes: Uint8Array, position: number): QueueFrame | QueueFrameDamage {
  const remaining = bytes.length - position;
  if (remaining < queueFrameHeaderBytes) return { reason: `${remaining} bytes remain, less than a frame header`, torn: true };
  const view = new DataView(bytes.buffer, bytes.byteOffset + position, queueFrameHeaderBytes);
  const bodyBytes = view.getUint32(4);
  const frameBytes = queueFrameHeaderBytes + bodyBytes;
  if (frameBytes > remaining) return { reason: `the frame says ${frameBytes} bytes but ${remaining} remain`, torn: true };
  const frame = bytes.subarray(position, position + frameBytes);
  if (crc32c(frame.subarray(4)) !== view.getUint32(0)) return { reason: 'the frame fails its CRC-32C', torn: true };
  if (frame[8] !== queueFrameVersion) return { reason: `the frame has format version ${frame[8]}; this software reads version ${queueFrameVersion}`, torn: false };
  return { kindCode: frame[9] as number, body: frame.subarray(queueFrameHeaderBytes), frameBytes };
}

export function isQueueFrameDamage(result: QueueFrame | QueueFrameDamage): result is QueueFrameDamage {
  return 'reason' in result;
}
