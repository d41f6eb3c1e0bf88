// The transport ceiling of bench/metadata.ts: the sequential and concurrent phases, with the same
// client as the Tributary target (AdminClient, AlterTopicConfig with a 256-byte label), against a
// server process that answers at once (bench/peers/noop-admin-server.ts). No system that serves
// each write as one gRPC call from this client can beat these figures on this machine, so they
// say how much of a target's time is the call itself.
// For bench/produce.ts, `measureStreamingCeiling`: one plain grpc-js client-streaming call pushing
// raw byte messages (64 KiB by default, the size that carried the most here) to a server that
// counts and drops them (bench/peers/noop-stream-server.ts): the most record bytes per second one
// grpc-js stream carries between two Node processes here, with no protobuf, no interceptors, no disk.
// For bench/ingest.ts, `measureUploadCeiling`: the same server and calls, a fixed number of
// messages on each of several streams at once, each stream on its own connection.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Client, type ClientWritableStream, credentials } from '@grpc/grpc-js';
import { AdminClient, defaultClientOptions } from '../../src/rpc/clients/index.js';
import { transportChannelOptions } from '../../src/rpc/transport-windows.js';
import { type MetadataWorkloadOptions, runWritePhases, type WritePhasesResult } from '../metadata-workload.js';
import { byteStreamServiceDefinition } from './byte-stream-service.js';
import { measureUploads, type UploadResult } from './upload-window.js';

const serverScript = fileURLToPath(new URL('./noop-admin-server.ts', import.meta.url));
const streamServerScript = fileURLToPath(new URL('./noop-stream-server.ts', import.meta.url));
/** Above any message the streaming ceiling sends (a producer batch is at most 16 MiB). */
const streamMessageBytesMax = 16 * 1024 * 1024;
/** Bound on the server printing its port. */
const startTimeoutMs = 30_000;

/** Starts the no-op server, runs the write phases against it, and kills it. */
export async function measureTransportCeiling(options: MetadataWorkloadOptions): Promise<WritePhasesResult> {
  const { server, killOnExit } = startServer(serverScript);
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

export interface StreamingCeilingOptions {
  /** Bytes per streamed message. */
  readonly messageBytes: number;
  readonly recordBytes: number;
  readonly warmUpMs: number;
  readonly durationMs: number;
  /** Tributary's HTTP/2 flow-control windows (the default) or the protocol's 64 KiB. */
  readonly windows?: 'tributary' | 'default';
  /** Keeps the server's event loop busy half the time in slices of this many ms (default 0). */
  readonly serverBusyMs?: number;
}

export interface StreamingCeilingResult {
  readonly recordsPerSecond: number;
  readonly mebibytesPerSecond: number;
}

/** Starts the byte-stream server, streams for the warm-up and then the measured duration, and kills it. */
export async function measureStreamingCeiling(options: StreamingCeilingOptions): Promise<StreamingCeilingResult> {
  const windows = options.windows ?? 'tributary';
  const { server, killOnExit } = startServer(streamServerScript, ['--windows', windows, '--busy-ms', String(options.serverBusyMs ?? 0)]);
  let client: Client | undefined;
  try {
    const address = `127.0.0.1:${await portOf(server)}`;
    const windowOptions = windows === 'tributary' ? transportChannelOptions : {};
    client = new Client(address, credentials.createInsecure(), { ...windowOptions, 'grpc.max_send_message_length': streamMessageBytesMax });
    const message = Buffer.alloc(options.messageBytes, 0x61);
    await streamFor(client, message, options.warmUpMs);
    const { receivedBytes, seconds } = await streamFor(client, message, options.durationMs);
    return { recordsPerSecond: receivedBytes / options.recordBytes / seconds, mebibytesPerSecond: receivedBytes / 1_048_576 / seconds };
  } finally {
    client?.close();
    server.kill('SIGKILL');
    process.off('exit', killOnExit);
  }
}

export interface UploadCeilingOptions {
  readonly messageBytes: number;
  /** Calls at once, each on its own connection. */
  readonly streams: number;
  readonly messagesPerStream: number;
}

/** Bound on every stream's connection being ready before the window starts. */
const connectTimeoutMs = 10_000;

/**
 * Starts the byte-stream server (Tributary's windows), connects `streams` clients, then times
 * `messagesPerStream` messages on every stream at once, each call until the server's answer.
 */
export async function measureUploadCeiling(options: UploadCeilingOptions): Promise<UploadResult> {
  const { server, killOnExit } = startServer(streamServerScript, ['--windows', 'tributary', '--busy-ms', '0']);
  const clients: Client[] = [];
  try {
    const address = `127.0.0.1:${await portOf(server)}`;
    // A local subchannel pool per client: grpc-js would otherwise share one connection between clients of the same address.
    const channelOptions = { ...transportChannelOptions, 'grpc.max_send_message_length': streamMessageBytesMax, 'grpc.use_local_subchannel_pool': 1 };
    for (let index = 0; index < options.streams; index++) clients.push(new Client(address, credentials.createInsecure(), channelOptions));
    await Promise.all(clients.map((client) => new Promise<void>((resolve, reject) => client.waitForReady(Date.now() + connectTimeoutMs, (error) => (error === undefined || error === null ? resolve() : reject(error))))));
    const message = Buffer.alloc(options.messageBytes, 0x61);
    return await measureUploads(options.streams, async (index) => (await streamMessages(clients[index] as Client, message, options.messagesPerStream)).receivedBytes);
  } finally {
    for (const client of clients) client.close();
    server.kill('SIGKILL');
    process.off('exit', killOnExit);
  }
}

/**
 * One client-streaming call: writes `message` as fast as the stream drains for `durationMs`, then
 * ends it; the time runs until the server's answer, so every byte counted has arrived.
 */
async function streamFor(client: Client, message: Buffer, durationMs: number): Promise<{ receivedBytes: number; seconds: number }> {
  const endMs = performance.now() + durationMs;
  return streamWhile(client, message, () => performance.now() < endMs);
}

/** One client-streaming call of `count` copies of `message`. */
function streamMessages(client: Client, message: Buffer, count: number): Promise<{ receivedBytes: number; seconds: number }> {
  let written = 0;
  return streamWhile(client, message, () => written++ < count);
}

/** Writes `message` while `more()` says so, as fast as the stream drains, then ends the call and awaits the server's byte count. */
async function streamWhile(client: Client, message: Buffer, more: () => boolean): Promise<{ receivedBytes: number; seconds: number }> {
  const startMs = performance.now();
  let call: ClientWritableStream<Buffer> | undefined;
  const answer = new Promise<Buffer>((resolve, reject) => {
    const method = byteStreamServiceDefinition.push;
    if (method === undefined) throw new Error('byte stream service has no push method');
    call = client.makeClientStreamRequest<Buffer, Buffer>(method.path, (bytes) => bytes, (bytes) => bytes, (error, response) => {
      if (error !== null || response === undefined) reject(error ?? new Error('byte stream: empty answer'));
      else resolve(response);
    });
  });
  if (call === undefined) throw new Error('byte stream: no call started');
  while (more()) {
    if (!call.write(message)) await once(call, 'drain');
  }
  call.end();
  const receivedBytes = Number((await answer).toString());
  return { receivedBytes, seconds: (performance.now() - startMs) / 1_000 };
}

export function streamingCeilingSettings(messageBytes: number): Record<string, unknown> {
  return {
    server: 'one process: a plain grpc-js Server (no interceptors, no protobuf) counting and dropping the bytes of a client-streaming call',
    client: `one plain grpc-js client-streaming call, ${messageBytes}-byte raw messages written as fast as the stream drains`,
  };
}

export function uploadCeilingSettings(messageBytes: number): Record<string, unknown> {
  return {
    server: 'one process: a plain grpc-js Server (no interceptors, no protobuf) with Tributary\'s HTTP/2 windows, counting and dropping the bytes of client-streaming calls',
    client: `plain grpc-js client-streaming calls, each on its own connection with Tributary's channel window, ${messageBytes}-byte raw messages written as fast as each stream drains; timed until every call's answer`,
  };
}

export function transportCeilingSettings(): Record<string, unknown> {
  return {
    server: 'one process: startRpcServer with every interceptor, AdminService answering at once (no Raft, no disk)',
    client: 'the Tributary target\'s: AdminClient over @grpc/grpc-js, AlterTopicConfig with a 256-byte label',
  };
}

function startServer(script: string, args: readonly string[] = []): { server: ChildProcess; killOnExit: () => void } {
  const server = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const killOnExit = () => server.kill('SIGKILL');
  process.on('exit', killOnExit);
  return { server, killOnExit };
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
