// Crash safety of the collector queue with real processes (DESIGN.md §7, docs/INGEST.md "Collector
// queue"): a child appends to three sources and acknowledges part of them, printing each append and
// acknowledgement once its promise resolved; this test SIGKILLs it at seeded random points,
// reopens the queue in-process and checks that every reported append is there byte for byte,
// acknowledgements did not go back, and the final digests cover every byte ever appended,
// including the deleted ones. Reproduce a failure with COLLECTOR_CRASH_SEED=<seed>.
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CollectorQueue } from '../../src/ingest/collector-queue.js';
import { Prng } from '../sim/prng.js';
import { crashQueueLimits, crashSessionId, crashSourceBytes, crashSources } from '../support/collector-queue-crash-child.js';

const repositoryRoot = fileURLToPath(new URL('../..', import.meta.url));
const childScript = 'test/support/collector-queue-crash-child.ts';
const seed = Number(process.env.COLLECTOR_CRASH_SEED ?? 8_2026);
const killIterations = 6;
/** A child is killed after this many reported appends at most (0: as soon as it is ready). */
const killAfterAppendsMax = 400;
const childTimeoutMs = 20_000;

const liveChildren = new Set<ChildProcess>();
const directories: string[] = [];

afterEach(() => {
  for (const child of liveChildren) child.kill('SIGKILL');
  liveChildren.clear();
});

afterAll(async () => {
  await Promise.all(directories.map((directory) => rm(directory, { recursive: true, force: true })));
});

/** What the killed children reported, per source: the end of the furthest append and acknowledgement. */
interface Reported {
  readonly appendedBytes: Map<string, number>;
  readonly acknowledgedBytes: Map<string, number>;
}

function runAndKill(directory: string, childSeed: number, killAfterAppends: number): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', childScript, directory, String(childSeed)], { cwd: repositoryRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  liveChildren.add(child);
  let stdout = '';
  let stderr = '';
  let appends = 0;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`crash child did not reach ${killAfterAppends} appends within ${childTimeoutMs} ms; stderr: ${stderr}`));
    }, childTimeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      stdout += text;
      appends += text.split('append ').length - 1;
      if (stdout.startsWith('ready ') && appends >= killAfterAppends) child.kill('SIGKILL');
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      liveChildren.delete(child);
      if (signal === 'SIGKILL') resolve(stdout);
      else reject(new Error(`crash child exited by itself (code ${code}, signal ${signal}); stderr: ${stderr}`));
    });
  });
}

/** Folds the complete lines of a child's stdout into `reported`; a line cut by the kill is ignored. */
function recordReports(stdout: string, reported: Reported): void {
  for (const line of stdout.split('\n').slice(0, -1)) {
    const [kind, source, offset, length] = line.split(' ');
    if (kind === 'append') {
      const end = Number(offset) + Number(length);
      reported.appendedBytes.set(source as string, Math.max(reported.appendedBytes.get(source as string) ?? 0, end));
    } else if (kind === 'ack') {
      reported.acknowledgedBytes.set(source as string, Math.max(reported.acknowledgedBytes.get(source as string) ?? 0, Number(offset)));
    }
  }
}

/** Every reported append and acknowledgement survived, and every unacknowledged byte is the one written. */
async function verifyQueue(queue: CollectorQueue, reported: Reported): Promise<void> {
  const session = queue.sessions().find((candidate) => candidate.declaration.sessionId === crashSessionId);
  expect(session, 'the declared session must survive').toBeDefined();
  for (const [index, name] of crashSources.entries()) {
    const source = session?.sources.find((candidate) => candidate.name === name);
    const appendedBytes = source?.appendedBytes ?? 0;
    const acknowledgedBytes = source?.acknowledgedBytes ?? 0;
    expect(appendedBytes, `source ${name} lost durable appends`).toBeGreaterThanOrEqual(reported.appendedBytes.get(name) ?? 0);
    expect(acknowledgedBytes, `source ${name} lost a durable acknowledgement`).toBeGreaterThanOrEqual(reported.acknowledgedBytes.get(name) ?? 0);
    const pending = await queue.pending(crashSessionId, name, 0, appendedBytes);
    expect(pending.offsetBytes).toBe(acknowledgedBytes);
    expect(pending.bytes.length).toBe(appendedBytes - acknowledgedBytes);
    expect(Buffer.from(pending.bytes).equals(crashSourceBytes(index, acknowledgedBytes, appendedBytes - acknowledgedBytes)), `source ${name} holds other bytes than were appended`).toBe(true);
  }
}

describe('collector queue crash safety', () => {
  it('keeps every durable append byte-exact across SIGKILLs', { timeout: 180_000 }, async () => {
    const directory = await mkdtemp(join(tmpdir(), 'tributary-collector-queue-crash-'));
    directories.push(directory);
    const random = new Prng(seed);
    const reported: Reported = { appendedBytes: new Map(), acknowledgedBytes: new Map() };
    let truncations = 0;
    for (let iteration = 0; iteration < killIterations; iteration++) {
      const killAfterAppends = iteration === 0 ? 0 : random.range(1, killAfterAppendsMax);
      recordReports(await runAndKill(directory, random.nextInt(2 ** 31), killAfterAppends), reported);
      const queue = await CollectorQueue.open(directory, crashQueueLimits);
      try {
        expect(queue.recovery.lockTakenOverFromPid, 'the killed child left its lock behind').toBeDefined();
        if (queue.recovery.truncatedTail !== undefined) truncations++;
        await verifyQueue(queue, reported);
      } finally {
        await queue.close();
      }
    }
    const queue = await CollectorQueue.open(directory, crashQueueLimits);
    try {
      for (const [index, name] of crashSources.entries()) {
        const lengthBytes = queue.sessions()[0]?.sources[index]?.appendedBytes ?? 0;
        const finished = await queue.finish(crashSessionId, name);
        const expected = createHash('sha256').update(crashSourceBytes(index, 0, lengthBytes)).digest('hex');
        expect(Buffer.from(finished.sha256).toString('hex'), `source ${name}'s digest must cover its deleted bytes too`).toBe(expected);
      }
    } finally {
      await queue.close();
    }
    console.log(JSON.stringify({ seed, killIterations, truncations, appendedBytes: Object.fromEntries(reported.appendedBytes) }));
  });
});
