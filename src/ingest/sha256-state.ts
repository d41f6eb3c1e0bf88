/**
 * SHA-256 (FIPS 180-4) whose running state can be saved and restored. node:crypto's Hash cannot
 * export its state, and the collector queue must produce a source's final digest after a restart
 * even when the source's early bytes were acknowledged and deleted long ago: it persists this
 * state (eight words, the byte count and the unhashed tail of under 64 bytes) in each segment's
 * checkpoint instead of keeping every byte (docs/INGEST.md, "Collector queue").
 */
const blockBytes = 64;
const roundConstants = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const initialWords = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
/** The message schedule, shared: compress never yields, so no two calls use it at once. */
const schedule = new Int32Array(64);

/** What a saved state holds: enough to continue hashing exactly where it stopped. */
export interface Sha256Snapshot {
  /** The eight chaining words, as unsigned 32-bit numbers. */
  readonly words: readonly number[];
  /** How many bytes have been hashed so far, the tail included. */
  readonly lengthBytes: number;
  /** The bytes after the last whole 64-byte block, fewer than 64. */
  readonly tail: Uint8Array;
}

export class Sha256State {
  private readonly words: Int32Array;
  private readonly tail = new Uint8Array(blockBytes);
  private tailBytes: number;
  private lengthBytes: number;

  constructor(snapshot?: Sha256Snapshot) {
    this.words = new Int32Array(snapshot?.words ?? initialWords);
    this.lengthBytes = snapshot?.lengthBytes ?? 0;
    this.tailBytes = snapshot?.tail.length ?? 0;
    if (snapshot !== undefined) {
      if (snapshot.words.length !== 8 || snapshot.tail.length >= blockBytes || snapshot.lengthBytes % blockBytes !== snapshot.tail.length) {
        throw new RangeError(`a SHA-256 state has 8 words and a tail of lengthBytes % 64 bytes; got ${snapshot.words.length} words, ${snapshot.tail.length} tail bytes, length ${snapshot.lengthBytes}`);
      }
      this.tail.set(snapshot.tail);
    }
  }

  /** Bytes hashed so far. */
  get hashedBytes(): number {
    return this.lengthBytes;
  }

  update(bytes: Uint8Array): void {
    let position = 0;
    if (this.tailBytes > 0) {
      position = Math.min(bytes.length, blockBytes - this.tailBytes);
      this.tail.set(bytes.subarray(0, position), this.tailBytes);
      this.tailBytes += position;
      if (this.tailBytes < blockBytes) {
        this.lengthBytes += bytes.length;
        return;
      }
      compress(this.words, this.tail, 0, blockBytes);
      this.tailBytes = 0;
    }
    const wholeEnd = position + Math.floor((bytes.length - position) / blockBytes) * blockBytes;
    if (wholeEnd > position) compress(this.words, bytes, position, wholeEnd);
    this.tail.set(bytes.subarray(wholeEnd), 0);
    this.tailBytes = bytes.length - wholeEnd;
    this.lengthBytes += bytes.length;
  }

  /** The digest of the bytes so far; the state is unchanged, so hashing may go on. */
  digest(): Uint8Array {
    const words = new Int32Array(this.words);
    const paddedBytes = this.tailBytes < 56 ? blockBytes : 2 * blockBytes;
    const padded = new Uint8Array(paddedBytes);
    padded.set(this.tail.subarray(0, this.tailBytes));
    padded[this.tailBytes] = 0x80;
    const view = new DataView(padded.buffer);
    view.setUint32(paddedBytes - 8, Math.floor(this.lengthBytes / 0x20000000));
    view.setUint32(paddedBytes - 4, (this.lengthBytes * 8) >>> 0);
    compress(words, padded, 0, paddedBytes);
    const result = new Uint8Array(32);
    const resultView = new DataView(result.buffer);
    words.forEach((word, index) => resultView.setInt32(index * 4, word));
    return result;
  }

  snapshot(): Sha256Snapshot {
    return { words: Array.from(this.words, (word) => word >>> 0), lengthBytes: this.lengthBytes, tail: this.tail.slice(0, this.tailBytes) };
  }
}

/** Folds the 64-byte blocks of bytes[start, end) into `words`. */
function compress(words: Int32Array, bytes: Uint8Array, start: number, end: number): void {
  const w = schedule;
  const k = roundConstants;
  let h0 = words[0] as number, h1 = words[1] as number, h2 = words[2] as number, h3 = words[3] as number;
  let h4 = words[4] as number, h5 = words[5] as number, h6 = words[6] as number, h7 = words[7] as number;
  for (let block = start; block < end; block += blockBytes) {
    for (let index = 0; index < 16; index++) {
      const at = block + index * 4;
      w[index] = ((bytes[at] as number) << 24) | ((bytes[at + 1] as number) << 16) | ((bytes[at + 2] as number) << 8) | (bytes[at + 3] as number);
    }
    for (let index = 16; index < 64; index++) {
      const before15 = w[index - 15] as number;
      const before2 = w[index - 2] as number;
      const sigma0 = ((before15 >>> 7) | (before15 << 25)) ^ ((before15 >>> 18) | (before15 << 14)) ^ (before15 >>> 3);
      const sigma1 = ((before2 >>> 17) | (before2 << 15)) ^ ((before2 >>> 19) | (before2 << 13)) ^ (before2 >>> 10);
      w[index] = (sigma1 + (w[index - 7] as number) + sigma0 + (w[index - 16] as number)) | 0;
    }
    let a = h0, b = h1, c = h2, d = h3, e = h4, f = h5, g = h6, h = h7;
    for (let index = 0; index < 64; index++) {
      const sum1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const choose = (e & f) ^ (~e & g);
      const temporary1 = (h + sum1 + choose + (k[index] as number) + (w[index] as number)) | 0;
      const sum0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const majority = (a & b) ^ (a & c) ^ (b & c);
      const temporary2 = (sum0 + majority) | 0;
      h = g; g = f; f = e; e = (d + temporary1) | 0;
      d = c; c = b; b = a; a = (temporary1 + temporary2) | 0;
    }
    h0 = (h0 + a) | 0; h1 = (h1 + b) | 0; h2 = (h2 + c) | 0; h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0; h5 = (h5 + f) | 0; h6 = (h6 + g) | 0; h7 = (h7 + h) | 0;
  }
  words[0] = h0; words[1] = h1; words[2] = h2; words[3] = h3;
  words[4] = h4; words[5] = h5; words[6] = h6; words[7] = h7;
}
