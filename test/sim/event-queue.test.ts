import { describe, expect, it } from 'vitest';
import { EventQueue } from './event-queue.js';
import { Prng } from './prng.js';

describe('EventQueue', () => {
  it('runs events in time order and ties in scheduling order, moving the clock', () => {
    const queue = new EventQueue<string>();
    queue.schedule(10, 'b');
    queue.schedule(5, 'a');
    queue.schedule(10, 'c');
    queue.schedule(0, 'now');
    const taken: string[] = [];
    for (let event = queue.next(); event !== undefined; event = queue.next()) taken.push(`${event.payload}@${queue.nowMs}`);
    expect(taken).toEqual(['now@0', 'a@5', 'b@10', 'c@10']);
  });

  it('keeps order over many random schedules', () => {
    const random = new Prng(11);
    const queue = new EventQueue<number>();
    for (let event = 0; event < 2000; event++) queue.schedule(random.range(0, 100), event);
    let previous = { atMs: -1, sequence: -1 };
    for (let event = queue.next(); event !== undefined; event = queue.next()) {
      expect(event.atMs > previous.atMs || (event.atMs === previous.atMs && event.sequence > previous.sequence)).toBe(true);
      previous = event;
    }
  });

  it('refuses the past and a runaway schedule', () => {
    const queue = new EventQueue<number>(2);
    queue.schedule(10, 1);
    queue.next();
    expect(() => queue.scheduleAt(5, 2)).toThrow(/past/);
    queue.schedule(1, 2);
    queue.schedule(1, 3);
    expect(() => queue.schedule(1, 4)).toThrow(/eventsPendingMax/);
  });
});
