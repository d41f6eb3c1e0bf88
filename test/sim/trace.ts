import { hashString } from './prng.js';

/**
 * The readable event trace of a run (`--trace`). Lines are built only when tracing is on; the hash
 * of all lines is how tests prove that a seed replays identically.
 */
export class Trace {
  private hash = 0x811c9dc5;
  private lineCount = 0;

  /** @param sink receives each line; undefined turns tracing off (the fast path). */
  constructor(private readonly sink: ((line: string) => void) | undefined) {}

  get enabled(): boolean {
    return this.sink !== undefined;
  }

  /** Records one event; `describe` is only called when tracing is on. */
  log(atMs: number, describe: () => string): void {
    if (this.sink === undefined) return;
    const line = `${String(atMs).padStart(7)}ms ${describe()}`;
    this.hash = hashString(line + '\n', this.hash);
    this.lineCount++;
    this.sink(line);
  }

  /** A digest of every line so far (hex), with the line count. */
  digest(): string {
    return `${this.lineCount}:${this.hash.toString(16).padStart(8, '0')}`;
  }
}
