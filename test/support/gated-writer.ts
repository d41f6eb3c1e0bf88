import type { KeyValueOperation } from '../../src/storage/key-value-store.js';
import type { StorageWriter } from '../../src/storage/storage-writer.js';

/** The real group commit behind a gate: writes wait until the test opens it, as a slow fsync would. */
export class GatedWriter implements StorageWriter {
  private opened = false;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly inner: StorageWriter) {}

  write(operations: readonly KeyValueOperation[]): Promise<void> {
    if (this.opened) return this.inner.write(operations);
    return new Promise<void>((resolve) => this.waiting.push(resolve)).then(() => this.inner.write(operations));
  }

  open(): void {
    this.opened = true;
    for (const release of this.waiting.splice(0)) release();
  }

  close(): void {
    this.opened = false;
  }
}
