import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pidFilePath, runningPid, writePidFile } from '../../../src/node/pid-file.js';

const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

function dataDir(): string {
  const directory = mkdtempSync(join(tmpdir(), 'trib-pid-'));
  directories.push(directory);
  return directory;
}

describe('pid file', () => {
  it('records this process and releases the file', () => {
    const directory = dataDir();
    const release = writePidFile(directory);
    expect(runningPid(directory)).toBe(process.pid);
    release();
    expect(runningPid(directory)).toBeUndefined();
  });

  it('treats the file of an exited process as stale and replaces it', () => {
    const directory = dataDir();
    const exited = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    writeFileSync(pidFilePath(directory), `${exited.stdout} 1\n`);
    expect(runningPid(directory)).toBeUndefined();
    writePidFile(directory)();
  });

  it('does not take a live pid with another start time for the node (a recycled pid)', () => {
    const directory = dataDir();
    writeFileSync(pidFilePath(directory), `${process.pid} 1\n`);
    expect(runningPid(directory)).toBeUndefined();
  });

  it('refuses a directory another live process holds', () => {
    const directory = dataDir();
    writePidFile(directory);
    const [pid = '', start = ''] = readFileSync(pidFilePath(directory), 'utf8').trim().split(' ');
    // Pretend the holder is our parent, alive with its own start time.
    const parentStat = readFileSync(`/proc/${process.ppid}/stat`, 'utf8');
    const parentStart = parentStat.slice(parentStat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
    writeFileSync(pidFilePath(directory), `${process.ppid} ${parentStart}\n`);
    expect(pid).toBe(String(process.pid));
    expect(start).not.toBe('');
    expect(() => writePidFile(directory)).toThrow(`data directory "${directory}" is in use by process ${process.ppid}; stop it first`);
  });
});
