// Summarizes V8 CPU profiles (`node --cpu-prof`, as written by `npm run bench:produce --
// --profile-dir DIR`) so "where the time goes" can be read without DevTools: per profile, the share
// of the profile's time the thread was idle (waiting in the event loop), and, as shares of its busy
// (not idle) time, garbage collection, program (V8 and native work outside a JS frame), the top
// functions by self time, and each of a few named costs (a sample counts once per cost whose frame
// is anywhere on its stack, so costs may overlap). Busy shares do not depend on how long the
// process sat idle before and after the load. Prints one JSON line per profile.
// --from-seconds and --to-seconds keep only the samples in that window of each profile (seconds
// from its start), to leave out start-up (module loading) and the idle tail.
// Run: npx tsx bench/cpu-profile-summary.ts [--top 25] [--from-seconds S] [--to-seconds S] FILE.cpuprofile...
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Named costs: a sample is in one when any frame on its stack matches. Order is only for display. */
const costs: ReadonlyArray<{ name: string; matches: (frame: CallFrame) => boolean }> = [
  { name: 'protobuf encode/decode (ts-proto generated, @bufbuild/protobuf wire)', matches: (frame) => frame.url.includes('/rpc/generated/') || frame.url.includes('@bufbuild/protobuf') },
  { name: 'CRC-32C (src/storage/crc32c.ts)', matches: (frame) => frame.url.endsWith('/storage/crc32c.ts') },
  { name: 'msgpack (msgpackr)', matches: (frame) => frame.url.includes('/msgpackr/') },
  { name: 'RocksDB calls (@nxtedition/rocksdb, src/storage/rocksdb)', matches: (frame) => frame.url.includes('@nxtedition/rocksdb') || frame.url.includes('/storage/rocksdb/') },
  { name: 'grpc-js and HTTP/2', matches: (frame) => frame.url.includes('@grpc/grpc-js') || frame.url.includes('internal/http2') },
  { name: 'sockets (net, stream writes)', matches: (frame) => /node:(net|internal\/stream_base_commons)/.test(frame.url) },
  { name: 'xstate', matches: (frame) => frame.url.includes('/xstate/') },
  { name: 'zod', matches: (frame) => frame.url.includes('/zod/') },
  { name: 'logging (pino)', matches: (frame) => frame.url.includes('/pino') },
  { name: 'metrics (prom-client)', matches: (frame) => frame.url.includes('prom-client') },
  { name: 'tsx loader (module transform)', matches: (frame) => frame.url.includes('/tsx/') || frame.url.includes('esbuild') },
];

/** Frames that are not a function but a state of the thread. */
const stateFrames = { idle: '(idle)', garbageCollection: '(garbage collector)', program: '(program)' } as const;
const topDefault = 25;
const topMax = 500;

interface SummaryOptions {
  readonly top: number;
  readonly fromMicroseconds: number;
  readonly toMicroseconds: number;
}

function summarizeProfile(path: string, options: SummaryOptions): Record<string, unknown> {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = parentsOf(profile.nodes);
  const selfMicroseconds = new Map<number, number>();
  const costMicroseconds = new Map<string, number>();
  let totalMicroseconds = 0;
  let elapsedMicroseconds = 0;
  profile.samples.forEach((nodeId, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    elapsedMicroseconds += delta;
    if (elapsedMicroseconds < options.fromMicroseconds || elapsedMicroseconds > options.toMicroseconds) return;
    totalMicroseconds += delta;
    selfMicroseconds.set(nodeId, (selfMicroseconds.get(nodeId) ?? 0) + delta);
    for (const cost of costsOnStack(nodeId, nodes, parents)) costMicroseconds.set(cost, (costMicroseconds.get(cost) ?? 0) + delta);
  });
  const byFunction = selfTimeByFunction(selfMicroseconds, nodes);
  const idleMicroseconds = byFunction.get(stateFrames.idle) ?? 0;
  byFunction.delete(stateFrames.idle);
  const busyMicroseconds = totalMicroseconds - idleMicroseconds;
  const percentOf = (whole: number) => (microseconds: number) => Number(((100 * microseconds) / Math.max(1, whole)).toFixed(1));
  const ofBusy = percentOf(busyMicroseconds);
  return {
    profile: basename(path),
    seconds: Number((totalMicroseconds / 1e6).toFixed(1)),
    busySeconds: Number((busyMicroseconds / 1e6).toFixed(1)),
    idlePercent: percentOf(totalMicroseconds)(idleMicroseconds),
    busyPercent: {
      garbageCollection: ofBusy(byFunction.get(stateFrames.garbageCollection) ?? 0),
      program: ofBusy(byFunction.get(stateFrames.program) ?? 0),
      costs: Object.fromEntries(costs.map((cost) => [cost.name, ofBusy(costMicroseconds.get(cost.name) ?? 0)])),
      topSelf: [...byFunction].sort((left, right) => right[1] - left[1]).slice(0, options.top).map(([name, microseconds]) => ({ name, percent: ofBusy(microseconds) })),
    },
  };
}

function parentsOf(nodes: readonly ProfileNode[]): Map<number, number> {
  const parents = new Map<number, number>();
  for (const node of nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  return parents;
}

/** Self time keyed by "function file:line", so the same function reached by different stacks adds up. */
function selfTimeByFunction(selfMicroseconds: Map<number, number>, nodes: Map<number, ProfileNode>): Map<string, number> {
  const byFunction = new Map<string, number>();
  for (const [nodeId, microseconds] of selfMicroseconds) {
    const frame = nodes.get(nodeId)?.callFrame;
    if (frame === undefined) continue;
    const name = frame.url === '' ? frame.functionName || '(anonymous native)' : `${frame.functionName || '(anonymous)'} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + microseconds);
  }
  return byFunction;
}

/** The named costs with a frame on the stack of `nodeId`, each once. */
function costsOnStack(nodeId: number, nodes: Map<number, ProfileNode>, parents: Map<number, number>): Set<string> {
  const found = new Set<string>();
  for (let id: number | undefined = nodeId; id !== undefined; id = parents.get(id)) {
    const frame = nodes.get(id)?.callFrame;
    if (frame === undefined) break;
    for (const cost of costs) if (cost.matches(frame)) found.add(cost.name);
  }
  return found;
}

/** Paths inside the repository or node_modules, without the machine's prefix. */
function shortUrl(url: string): string {
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) return url.slice(modules + 'node_modules/'.length);
  const source = url.search(/\/(src|bench|test)\//);
  return source >= 0 ? url.slice(source + 1) : url;
}

function main(): void {
  const text = { type: 'string' } as const;
  const { values, positionals } = parseArgs({ options: { top: text, 'from-seconds': text, 'to-seconds': text }, allowPositionals: true, strict: true });
  const top = values.top === undefined ? topDefault : Number(values.top);
  if (!Number.isSafeInteger(top) || top < 1 || top > topMax) throw new Error(`--top must be an integer from 1 to ${topMax}, got "${values.top}"`);
  const fromSeconds = secondsFlag('from-seconds', values['from-seconds'], 0);
  const toSeconds = secondsFlag('to-seconds', values['to-seconds'], Number.POSITIVE_INFINITY);
  if (positionals.length === 0) throw new Error('name at least one .cpuprofile file');
  const options = { top, fromMicroseconds: fromSeconds * 1e6, toMicroseconds: toSeconds * 1e6 };
  for (const path of positionals) console.log(JSON.stringify(summarizeProfile(path, options)));
}

function secondsFlag(flag: string, text: string | undefined, defaultValue: number): number {
  if (text === undefined) return defaultValue;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${flag} must be a number of seconds, 0 or more, got "${text}"`);
  return value;
}

main();
