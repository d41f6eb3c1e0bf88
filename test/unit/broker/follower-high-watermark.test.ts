import { describe, expect, it } from 'vitest';
import { FollowerHighWatermark } from '../../../src/broker/index.js';

describe('FollowerHighWatermark', () => {
  it('is min(leader high watermark, own log end), never decreasing', () => {
    const highWatermark = new FollowerHighWatermark(0);
    expect(highWatermark.update(50, 30)).toBe(30);
    expect(highWatermark.update(50, 60)).toBe(50);
    expect(highWatermark.update(40, 60)).toBe(50);
    expect(highWatermark.update(undefined, 80)).toBe(50);
    expect(highWatermark.update(90, 80)).toBe(80);
    expect(highWatermark.value()).toBe(80);
  });

  it('follows a truncation below it down and says so (only an unclean election does that)', () => {
    const highWatermark = new FollowerHighWatermark(40);
    expect(highWatermark.truncated(45)).toEqual({ highWatermark: 40, lowered: false });
    expect(highWatermark.truncated(35)).toEqual({ highWatermark: 35, lowered: true });
  });

  it('refuses offsets that are not safe integers', () => {
    expect(() => new FollowerHighWatermark(-1)).toThrow('high watermark -1 is not an offset');
    expect(() => new FollowerHighWatermark(0).update(Number.NaN, 3)).toThrow('leader high watermark NaN is not an offset');
  });
});
