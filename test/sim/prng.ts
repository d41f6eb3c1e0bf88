import type { Random } from '../../src/raft/raft-types.js';

/**
 * The simulator's only source of randomness: xoshiro128** on 32-bit integer math, seeded through
 * SplitMix32, so a seed gives the same stream on every run and every machine. A run has ONE root
 * Prng; every subsystem gets its own stream with `fork(label)`, which derives from the root's seed
 * and the label only, so adding a draw in one subsystem never shifts the draws of another.
 */
export class Prng implements Random {
  private readonly seedWords: readonly number[];
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** `seed` is any safe integer (negative seeds from fast-check included). */
  constructor(seed: number | readonly number[]) {
    this.seedWords = typeof seed === 'number' ? wordsOfSeed(seed) : expandWords(seed);
    [this.s0, this.s1, this.s2, this.s3] = this.seedWords as [number, number, number, number];
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // xoshiro's one forbidden state
  }

  /** An independent stream named `label`, the same for the same root seed and label. */
  fork(label: string): Prng {
    const labelHash = hashString(label);
    return new Prng(this.seedWords.map((word, position) => (word ^ Math.imul(labelHash, position * 2 + 1)) >>> 0));
  }

  /** The next 32 random bits as an unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotateLeft(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const shifted = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= shifted;
    this.s3 = rotateLeft(this.s3, 11);
    return result;
  }

  /** A uniform float in [0, 1) with 53 random bits. */
  nextFloat(): number {
    const high = this.nextUint32() >>> 5; // 27 bits
    const low = this.nextUint32() >>> 6; // 26 bits
    return (high * 67108864 + low) / 9007199254740992;
  }

  /** A uniform integer in [0, maxExclusive): the core's Random contract. */
  nextInt(maxExclusive: number): number {
    if (!Number.isSafeInteger(maxExclusive) || maxExclusive <= 0) {
      throw new RangeError(`nextInt needs a positive safe integer, got ${maxExclusive}`);
    }
    return Math.floor(this.nextFloat() * maxExclusive);
  }

  /** True with probability `probability` (0 never draws true, 1 always does). */
  chance(probability: number): boolean {
    if (probability <= 0) return false;
    if (probability >= 1) return true;
    return this.nextFloat() < probability;
  }

  /** A uniform integer in [min, maxInclusive]. */
  range(min: number, maxInclusive: number): number {
    if (maxInclusive < min) throw new RangeError(`range(${min}, ${maxInclusive}) is empty`);
    return min + this.nextInt(maxInclusive - min + 1);
  }

  /** A uniform float in [min, max). */
  rangeFloat(min: number, max: number): number {
    return min + this.nextFloat() * (max - min);
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[this.nextInt(items.length)] as T;
  }

  /** A shuffled copy (Fisher–Yates); the input is left as it is. */
  shuffle<T>(items: readonly T[]): T[] {
    const result = [...items];
    for (let index = result.length - 1; index > 0; index--) {
      const other = this.nextInt(index + 1);
      [result[index], result[other]] = [result[other] as T, result[index] as T];
    }
    return result;
  }

  /** An exponentially distributed float with the given mean: the gap between Poisson events. */
  exponential(mean: number): number {
    if (!(mean > 0)) throw new RangeError(`exponential needs a positive mean, got ${mean}`);
    return -mean * Math.log(1 - this.nextFloat());
  }
}

function rotateLeft(value: number, bits: number): number {
  return ((value << bits) | (value >>> (32 - bits))) >>> 0;
}

/** SplitMix32: spreads a small or structured seed over the four state words. */
function splitMix32(state: number): [next: number, output: number] {
  const next = (state + 0x9e3779b9) >>> 0;
  let mixed = next;
  mixed = Math.imul(mixed ^ (mixed >>> 16), 0x85ebca6b);
  mixed = Math.imul(mixed ^ (mixed >>> 13), 0xc2b2ae35);
  return [next, (mixed ^ (mixed >>> 16)) >>> 0];
}

function wordsOfSeed(seed: number): number[] {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer, got ${seed}`);
  const low = seed >>> 0;
  const high = Math.floor(seed / 4294967296) >>> 0; // keeps negative seeds distinct from positive
  return expandWords([low, high]);
}

function expandWords(words: readonly number[]): number[] {
  let state = words.reduce((accumulator, word) => (Math.imul(accumulator ^ word, 0x01000193) + 0x7f4a7c15) >>> 0, 0x811c9dc5);
  const result: number[] = [];
  for (let position = 0; position < 4; position++) {
    const [next, output] = splitMix32((state ^ (words[position] ?? 0)) >>> 0);
    state = next;
    result.push(output);
  }
  return result;
}

/** FNV-1a over UTF-16 code units: a stable 32-bit hash for labels and trace lines. */
export function hashString(text: string, initial = 0x811c9dc5): number {
  let hash = initial;
  for (let position = 0; position < text.length; position++) {
    hash = Math.imul(hash ^ text.charCodeAt(position), 0x01000193);
  }
  return hash >>> 0;
}
