import { link, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TributaryError } from '../errors/index.js';

export const queueLockFileName = 'queue.lock';
/** A lock is retried this often at most: one stale holder removed, then a racing opener seen. */
const acquireAttemptsMax = 3;

/** The single-writer lock of a queue directory, held by this process until released. */
export interface QueueLock {
  /** The pid of the dead process whose lock this one replaced, if any. */
  readonly takenOverFromPid: number | undefined;
  release(): Promise<void>;
}

/**
 * Takes `directory`'s lock file, which names the holder's pid. The file is written under a
 * temporary name and hard-linked into place, so it appears complete or not at all, and link
 * fails if another holder's file is there. A lock whose pid is not a running process is stale
 * (its holder crashed) and is taken over. Two processes taking over the same stale lock at the
 * same instant could both succeed; a device runs one collector, so that race is left open.
 */
export async function acquireQueueLock(directory: string, pid: number): Promise<QueueLock> {
  const lockPath = join(directory, queueLockFileName);
  const temporaryPath = join(directory, `${queueLockFileName}.${pid}.tmp`);
  await writeFile(temporaryPath, `${pid}\n`);
  let takenOverFromPid: number | undefined;
  try {
    for (let attempt = 1; attempt <= acquireAttemptsMax; attempt++) {
      if (await tryLink(temporaryPath, lockPath)) return { takenOverFromPid, release: () => unlink(lockPath) };
      const holderPid = await readHolderPid(lockPath);
      if (holderPid === undefined) continue;
      if (isProcessAlive(holderPid)) {
        throw new TributaryError('NOT_AVAILABLE', `collector queue directory "${directory}" is locked by process ${holderPid} (${lockPath}); only one process may open a queue`, { retriable: false });
      }
      await unlink(lockPath).catch(ignoreMissing);
      takenOverFromPid = holderPid;
    }
    throw new TributaryError('NOT_AVAILABLE', `collector queue directory "${directory}": another process keeps taking ${lockPath}`, { retriable: false });
  } finally {
    await unlink(temporaryPath).catch(ignoreMissing);
  }
}

async function tryLink(from: string, to: string): Promise<boolean> {
  try {
    await link(from, to);
    return true;
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return false;
    throw error;
  }
}

/** The pid in the lock file; undefined when it vanished meanwhile (its holder released it). */
async function readHolderPid(lockPath: string): Promise<number | undefined> {
  let text: string;
  try {
    text = await readFile(lockPath, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
  const pid = Number(text.trim());
  if (!Number.isSafeInteger(pid) || pid <= 0) {
    throw new TributaryError('NOT_AVAILABLE', `collector queue lock ${lockPath} holds ${JSON.stringify(text)}, not a pid; remove it if no process uses the queue`, { retriable: false });
  }
  return pid;
}

/** Signal 0 checks for a process without touching it; EPERM means it exists under another user. */
function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === 'EPERM';
  }
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

function ignoreMissing(error: unknown): void {
  if (errorCode(error) !== 'ENOENT') throw error;
}
