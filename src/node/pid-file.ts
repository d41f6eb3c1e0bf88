import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The file a node writes its process id to, so `trib cluster` can find and signal it. */
export function pidFilePath(dataDir: string): string {
  return join(dataDir, 'pid');
}

/**
 * The pid in `dataDir`'s pid file if that process still runs, else undefined. The file also holds
 * the process's start time, so a pid the kernel recycled for another program does not count.
 */
export function runningPid(dataDir: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(pidFilePath(dataDir), 'utf8');
  } catch {
    return undefined;
  }
  const [pidText = '', startText = ''] = text.trim().split(/\s+/);
  const pid = Number(pidText);
  if (!Number.isSafeInteger(pid) || pid <= 0 || !isProcessRunning(pid)) return undefined;
  const started = processStartTicks(pid);
  return started === undefined || started === startText ? pid : undefined;
}

/**
 * Claims `dataDir` for this process: refuses when another live process holds it (two nodes on
 * one directory would corrupt each other), replaces a stale file a killed node left. Returns the
 * function that releases it.
 */
export function writePidFile(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const holder = runningPid(dataDir);
  if (holder !== undefined && holder !== process.pid) {
    throw new Error(`data directory "${dataDir}" is in use by process ${holder}; stop it first`);
  }
  const path = pidFilePath(dataDir);
  writeFileSync(path, `${process.pid} ${processStartTicks(process.pid) ?? ''}\n`);
  return () => {
    if (runningPid(dataDir) === process.pid) rmSync(path, { force: true });
  };
}

/**
 * True while `pid` runs. A killed process is a zombie until its parent reaps it, and a node that
 * `trib cluster up` detached is reaped by init, which can take a second: a zombie has stopped,
 * so it counts as gone. Another user's process (EPERM) is not a node this user started.
 */
export function isProcessRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  return processState(pid) !== 'Z';
}

/** Field 3 of /proc/PID/stat (R, S, D, Z...); undefined without /proc or once the process is gone. */
function processState(pid: number): string | undefined {
  return procStatFields(pid)?.[0];
}

/** Field 22 of /proc/PID/stat (start time in clock ticks since boot); undefined without /proc. */
function processStartTicks(pid: number): string | undefined {
  return procStatFields(pid)?.[19];
}

/** The fields of /proc/PID/stat after the command name, from field 3 on. */
function procStatFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}
