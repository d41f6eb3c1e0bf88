// The transport ceiling of bench/metadata.ts: the sequential and concurrent phases, with the same
// client as the Tributary target (AdminClient, AlterTopicConfig with a 256-byte label), against a
// server process that answers at once (bench/peers/noop-admin-server.ts). No system that serves
// each write as one gRPC call from this client can beat these figures on this machine, so they
// say how much of a target's time is the call itself.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { AdminClient, defaultClientOptions } from '../../src/rpc/clients/index.js';
import { type MetadataWorkloadOptions, runWritePhases, type WritePhasesResult } from '../metadata-workload.js';

const serverScript = fileURLToPath(new URL('./noop-admin-server.ts', import.meta.url));
/** Bound on the server printing its port. */
const startTimeoutMs = 30_000;

/** Starts the no-op server, runs the write phases against it, and kills it. */
export async function measureTransportCeiling(options: MetadataWorkloadOptions): Promise<WritePhasesResult> {
  const server = spawn(process.execPath, ['--import', 'tsx', serverScript], { stdio: ['ignore', 'pipe', 'inherit'] });
  const killOnExit = () => server.kill('SIGKILL');
  process.on('exit', killOnExit);
  const clients = new Map<number, AdminClient>();
  try {
    const address = `127.0.0.1:${await portOf(server)}`;
    const clientFor = (deadlineMs: number): AdminClient => {
      let client = clients.get(deadlineMs);
      if (client === undefined) {
        client = new AdminClient({ ...defaultClientOptions('bench-metadata-ceiling'), deadlineMs, bootstrap: [address] });
        clients.set(deadlineMs, client);
      }
      return client;
    };
    return await runWritePhases(async (key, value, timeoutMs) => {
      const label = Buffer.from(value).toString('base64').slice(0, value.length);
      await clientFor(timeoutMs).alterTopicConfig(key.replaceAll('/', '.'), { setLabels: { value: label } });
    }, options);
  } finally {
    for (const client of clients.values()) client.close();
    server.kill('SIGKILL');
    process.off('exit', killOnExit);
  }
}

export function transportCeilingSettings(): Record<string, unknown> {
  return {
    server: 'one process: startRpcServer with every interceptor, AdminService answering at once (no Raft, no disk)',
    client: 'the Tributary target\'s: AdminClient over @grpc/grpc-js, AlterTopicConfig with a 256-byte label',
  };
}

async function portOf(server: ChildProcess): Promise<number> {
  const stdout = server.stdout;
  if (stdout === null) throw new Error('transport ceiling: the server has no stdout');
  const timer = setTimeout(() => server.kill('SIGKILL'), startTimeoutMs);
  try {
    let text = '';
    for await (const chunk of stdout) {
      text += String(chunk);
      const line = text.split('\n')[0];
      if (text.includes('\n') && line !== undefined && /^\d+$/.test(line.trim())) return Number(line.trim());
    }
    throw new Error(`transport ceiling: the server closed its output (exit code ${server.exitCode}) before printing its port: "${text}"`);
  } finally {
    clearTimeout(timer);
  }
}
