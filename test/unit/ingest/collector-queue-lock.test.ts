// Single writer: the lock file names its holder; a live holder keeps others out, a dead one's lock
// is taken over.
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CollectorQueue } from '../../../src/ingest/collector-queue.js';
import { openQueue, queueDirectory } from './collector-queue-fixture.js';

/** The pid of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
  return Number(child.stdout.trim());
}

describe('CollectorQueue lock', () => {
  it('keeps a second opener out, naming the directory and the holder pid', async () => {
    const directory = await queueDirectory();
    const queue = await openQueue(directory);
    expect(await readFile(join(directory, 'queue.lock'), 'utf8')).toBe(`${process.pid}\n`);
    await expect(CollectorQueue.open(directory)).rejects.toMatchObject({
      code: 'NOT_AVAILABLE',
      message: expect.stringContaining(`"${directory}" is locked by process ${process.pid}`) as unknown,
    });
    await queue.close();
    const again = await openQueue(directory);
    expect(again.recovery.lockTakenOverFromPid).toBeUndefined();
  });

  it('takes over the lock of a dead process', async () => {
    const directory = await queueDirectory();
    const pid = deadPid();
    await writeFile(join(directory, 'queue.lock'), `${pid}\n`);
    const queue = await openQueue(directory);
    expect(queue.recovery.lockTakenOverFromPid).toBe(pid);
    expect(await readFile(join(directory, 'queue.lock'), 'utf8')).toBe(`${process.pid}\n`);
  });
});
