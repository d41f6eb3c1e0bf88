/**
 * Runs tasks one at a time in the order they were queued: a store's mutations read its cached
 * bounds, write, then update them, and two of those interleaving would corrupt the cache.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    // A failed task must not stop the ones queued after it; its caller sees the failure.
    this.tail = result.catch(() => undefined);
    return result;
  }
}
