// HTTP/2 flow-control windows (src/rpc/transport-windows.ts) on one plain grpc-js
// client-streaming call of raw 1 MiB messages, the transport ceiling's (bench/peers/transport-ceiling.ts):
// the protocol's default 64 KiB windows against Tributary's, to an idle server and to one whose
// event loop is busy half the time in `--busy-ms` slices, as a node's is while it fsyncs,
// checksums and serves followers. The rounds interleave the four cases so machine noise falls on
// all alike. Prints one JSON line: MiB/s per case (median, min, max) and Tributary ÷ default.
// Run: npm run bench:flow-control-windows -- [--runs 3] [--seconds 3] [--busy-ms 3] [--message-bytes 1048576]
import { parseArgs } from 'node:util';
import { summary } from './bench-statistics.js';
import { measureStreamingCeiling } from './peers/transport-ceiling.js';
import { transportConnectionWindowBytes, transportStreamWindowBytes } from '../src/rpc/transport-windows.js';

const bounds = { runs: [1, 20], seconds: [1, 60], 'busy-ms': [1, 100], 'message-bytes': [1_024, 16 * 1024 * 1024] } as const;
type Flag = keyof typeof bounds;
const defaults: Record<Flag, number> = { runs: 3, seconds: 3, 'busy-ms': 3, 'message-bytes': 1024 * 1024 };
const warmUpMs = 500;

function options(): Record<Flag, number> {
  const { values } = parseArgs({ options: Object.fromEntries(Object.keys(bounds).map((flag) => [flag, { type: 'string' as const }])) });
  const parsed = { ...defaults };
  for (const flag of Object.keys(bounds) as Flag[]) {
    const text = values[flag];
    if (typeof text !== 'string') continue;
    const value = Number(text);
    const [min, max] = bounds[flag];
    if (!Number.isSafeInteger(value) || value < min || value > max) throw new Error(`--${flag} must be an integer from ${min} to ${max}, got "${text}"`);
    parsed[flag] = value;
  }
  return parsed;
}

async function main(): Promise<void> {
  const flags = options();
  const cases = ['default', 'tributary'].flatMap((windows) => [0, flags['busy-ms']].map((serverBusyMs) => ({ windows: windows as 'default' | 'tributary', serverBusyMs })));
  const samples = new Map(cases.map((entry) => [`${entry.windows}, server busy ${entry.serverBusyMs} ms`, [] as number[]]));
  for (let run = 1; run <= flags.runs; run++) {
    for (const entry of cases) {
      process.stderr.write(`bench/flow-control-windows: run ${run}/${flags.runs}, ${entry.windows} windows, server busy ${entry.serverBusyMs} ms\n`);
      const result = await measureStreamingCeiling({ messageBytes: flags['message-bytes'], recordBytes: 1_024, warmUpMs, durationMs: flags.seconds * 1_000, ...entry });
      samples.get(`${entry.windows}, server busy ${entry.serverBusyMs} ms`)?.push(result.mebibytesPerSecond);
    }
  }
  const mebibytesPerSecond = Object.fromEntries([...samples].map(([name, values]) => [name, summary(values, 1)]));
  const ratio = (busyMs: number) => Number((summary(samples.get(`tributary, server busy ${busyMs} ms`) ?? [], 3).median / summary(samples.get(`default, server busy ${busyMs} ms`) ?? [], 3).median).toFixed(2));
  console.log(JSON.stringify({
    bench: 'flow-control-windows', flags,
    windows: { default: { streamBytes: 65_535, connectionBytes: 65_535 }, tributary: { streamBytes: transportStreamWindowBytes, connectionBytes: transportConnectionWindowBytes } },
    mebibytesPerSecond, ratios: { 'tributary/default, idle server': ratio(0), [`tributary/default, server busy ${flags['busy-ms']} ms`]: ratio(flags['busy-ms']) },
  }));
}

await main();
