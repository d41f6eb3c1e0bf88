// The process that test/integration/collector-queue-crash.test.ts kills. It opens the collector
// queue in the directory it is given, declares the crash session (once; declaring again is a
// no-op), and appends to each source from its own loop, printing one line per append ONLY AFTER
// its promise resolved (the append is durable then):
//
//   append SOURCE OFFSET LENGTH
//   ack SOURCE OFFSET            (an acknowledgement that resolved)
//
// Byte `offset` of source `s` is always crashSourceByte(s, offset), in every generation, so the
// parent can check any byte it reads back. It never stops by itself (up to a bound); the parent
// ends it with SIGKILL. stdout to a pipe is synchronous on Linux, so a printed line is in the
// pipe when the kill lands.
//
// Run: node --import tsx test/support/collector-queue-crash-child.ts DIRECTORY SEED
import { argv, exit, stdout } from 'node:process';
import { pathToFileURL } from 'node:url';
import type { CollectorQueueLimits } from '../../src/ingest/collector-queue-limits.js';
import { CollectorQueue, type CollectorSessionInput } from '../../src/ingest/collector-queue.js';
import { Prng } from '../sim/prng.js';

export const crashSessionId = 'crash-session';
export const crashSources = ['mic', 'camera', 'notes'] as const;
/** Small segments, so that a run rolls and deletes many of them. */
export const crashQueueLimits: Partial<CollectorQueueLimits> = { segmentBytesMax: 192 * 1024, entryBytesMax: 64 * 1024, queueBytesMax: 64 * 1024 * 1024 };
const crashSession: CollectorSessionInput = {
  sessionId: crashSessionId,
  sources: crashSources.map((name) => ({ name, contentType: 'application/octet-stream', payloadKind: 'binary' as const })),
  createdAtMs: 1_700_000_000_000,
};
/** Each loop stops appending after this many bytes in one generation, so a forgotten child cannot fill the disk. */
const appendedBytesPerLoopMax = 32 * 1024 * 1024;
const entryBytesMax = 24 * 1024;
/** The acknowledging loop confirms this share of each source's bytes, as a lagging uploader would. */
const acknowledgedShare = 0.6;

export function crashSourceByte(sourceIndex: number, offsetBytes: number): number {
  return (Math.imul(offsetBytes + 1, 2654435761) >>> 24) ^ (offsetBytes >>> 16) ^ (sourceIndex * 85);
}

export function crashSourceBytes(sourceIndex: number, offsetBytes: number, lengthBytes: number): Uint8Array {
  const bytes = new Uint8Array(lengthBytes);
  for (let index = 0; index < lengthBytes; index++) bytes[index] = crashSourceByte(sourceIndex, offsetBytes + index) & 0xff;
  return bytes;
}

async function appendLoop(queue: CollectorQueue, sourceIndex: number, random: Prng): Promise<void> {
  const source = crashSources[sourceIndex] as string;
  let appendedBytes = 0;
  while (appendedBytes < appendedBytesPerLoopMax) {
    const offsetBytes = queue.sessions()[0]?.sources[sourceIndex]?.appendedBytes ?? 0;
    const lengthBytes = random.range(1, entryBytesMax);
    // Loops of one source never overlap, so the durable length is where this append lands.
    const assigned = await queue.append(crashSessionId, source, crashSourceBytes(sourceIndex, offsetBytes, lengthBytes));
    if (assigned !== offsetBytes) throw new Error(`append landed at ${assigned}, expected ${offsetBytes}`);
    stdout.write(`append ${source} ${assigned} ${lengthBytes}\n`);
    appendedBytes += lengthBytes;
  }
}

async function acknowledgeLoop(queue: CollectorQueue): Promise<void> {
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    for (const source of queue.sessions()[0]?.sources ?? []) {
      const offsetBytes = Math.floor(source.appendedBytes * acknowledgedShare);
      if (await queue.acknowledge(crashSessionId, source.name, offsetBytes)) stdout.write(`ack ${source.name} ${offsetBytes}\n`);
    }
  }
}

async function main(): Promise<void> {
  const [directory, seedText] = argv.slice(2);
  if (directory === undefined || seedText === undefined) throw new Error('usage: collector-queue-crash-child.ts DIRECTORY SEED');
  const queue = await CollectorQueue.open(directory, crashQueueLimits);
  await queue.declareSession(crashSession);
  stdout.write(`ready ${JSON.stringify(queue.recovery)}\n`);
  const random = new Prng(Number(seedText));
  await Promise.all([...crashSources.map((_, index) => appendLoop(queue, index, random.fork(`source-${index}`))), acknowledgeLoop(queue)]);
}

if (import.meta.url === pathToFileURL(argv[1] ?? '').href) {
  main().catch((error: unknown) => {
    console.error(error);
    exit(1);
  });
}
