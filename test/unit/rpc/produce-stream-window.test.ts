import { describe, expect, it } from 'vitest';
import { TributaryError } from '../../../src/errors/index.js';
import { ProduceStreamWindow } from '../../../src/rpc/clients/produce-stream-window.js';

/** The correlation ids and items of what the window lets go now. */
function sendable(window: ProduceStreamWindow<string>): Array<[number, string]> {
  return window.takeSendable().map((entry) => [entry.correlationId, entry.item]);
}

describe('ProduceStreamWindow', () => {
  it('numbers appends from 1 in call order and holds them all until the broker opens the window', () => {
    const window = new ProduceStreamWindow<string>(10);
    expect([window.enqueue(5, 'a'), window.enqueue(5, 'b'), window.enqueue(5, 'c')]).toEqual([1, 2, 3]);
    expect(sendable(window)).toEqual([]);
    window.open({ requestsMax: 10, bytesMax: 100 });
    expect(sendable(window)).toEqual([[1, 'a'], [2, 'b'], [3, 'c']]);
    expect(sendable(window)).toEqual([]);
  });

  it('keeps at most requestsMax in flight and sends the queued ones in call order as results free the window', () => {
    const window = new ProduceStreamWindow<string>(10);
    window.open({ requestsMax: 2, bytesMax: 1_000 });
    for (const item of ['a', 'b', 'c', 'd']) window.enqueue(1, item);
    expect(sendable(window)).toEqual([[1, 'a'], [2, 'b']]);
    // Results may come in any order across partitions; the queue still leaves in call order.
    expect(window.settle(2)?.item).toBe('b');
    expect(sendable(window)).toEqual([[3, 'c']]);
    window.settle(1);
    window.settle(3);
    expect(sendable(window)).toEqual([[4, 'd']]);
    window.settle(4);
    expect(window.idle).toBe(true);
  });

  it('keeps in-flight bytes within bytesMax, lets one larger append go alone, and never lets a small one overtake it', () => {
    const window = new ProduceStreamWindow<string>(10);
    window.open({ requestsMax: 10, bytesMax: 100 });
    window.enqueue(60, 'first');
    window.enqueue(500, 'large');
    window.enqueue(1, 'small');
    expect(sendable(window)).toEqual([[1, 'first']]);
    window.settle(1);
    // Alone in flight, the large append goes although it exceeds the byte window; the small one waits behind it.
    expect(sendable(window)).toEqual([[2, 'large']]);
    window.settle(2);
    expect(sendable(window)).toEqual([[3, 'small']]);
  });

  it('refuses an append beyond queuedMax with a retriable RESOURCE_EXHAUSTED naming the bound, and counts only queued appends', () => {
    const window = new ProduceStreamWindow<string>(2);
    window.enqueue(1, 'a');
    window.enqueue(1, 'b');
    let refused: unknown;
    try {
      window.enqueue(1, 'c');
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(TributaryError);
    expect(refused).toMatchObject({ code: 'RESOURCE_EXHAUSTED', retriable: true, message: '2 appends already wait for the produce stream\'s window; the queue holds at most 2, so retry after results arrive' });
    window.open({ requestsMax: 5, bytesMax: 100 });
    window.takeSendable();
    // Sent appends no longer count against the local queue.
    expect(window.enqueue(1, 'd')).toBe(3);
  });

  it('settles only what is in flight, and hands back everything, in flight first, when the stream fails', () => {
    const window = new ProduceStreamWindow<string>(10);
    window.open({ requestsMax: 1, bytesMax: 100 });
    for (const item of ['a', 'b', 'c']) window.enqueue(1, item);
    window.takeSendable();
    expect(window.settle(2)).toBeUndefined();
    expect(window.settle(99)).toBeUndefined();
    expect(window.takeAll().map((entry) => entry.item)).toEqual(['a', 'b', 'c']);
    expect(window.idle).toBe(true);
    expect(window.settle(1)).toBeUndefined();
  });

  it('refuses a window the broker should never grant, naming the value', () => {
    expect(() => new ProduceStreamWindow<string>(1).open({ requestsMax: 0, bytesMax: 100 })).toThrow('the broker opened the produce stream with max_in_flight_requests 0; it must be at least 1');
    expect(() => new ProduceStreamWindow<string>(0)).toThrow('queuedMax must be a positive integer, got 0');
  });
});
