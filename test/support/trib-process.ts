import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const repositoryRoot = fileURLToPath(new URL('../..', import.meta.url));
/** The CLI from source through tsx, so tests exercise the tree as it is, not a stale build. */
const tribArgs = ['--import', 'tsx', 'src/cli/main.ts'];
const runTimeoutMsDefault = 20_000;

export interface TribResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The environment without TRIB_* variables, which would otherwise override test configs. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('TRIB_')));
  return { ...env, ...extra };
}

/** Starts `trib ARGS` as a separate OS process with piped output; the caller owns its lifetime. */
export function spawnTrib(args: string[], env: NodeJS.ProcessEnv, input?: Uint8Array | string): ChildProcess {
  const child = spawn(process.execPath, [...tribArgs, ...args], { cwd: repositoryRoot, env, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  child.stdin?.end(input);
  return child;
}

function collect(child: ChildProcess, timeoutMs: number): Promise<TribResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`trib did not exit within ${timeoutMs} ms; stdout: ${stdout}; stderr: ${stderr}`));
    }, timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Runs `trib ARGS` to completion as a separate OS process; `input` is its standard input (none when unset). */
export function runTrib(args: string[], options: { env?: Record<string, string>; timeoutMs?: number; input?: Uint8Array | string } = {}): Promise<TribResult> {
  return collect(spawnTrib(args, cleanEnv(options.env), options.input), options.timeoutMs ?? runTimeoutMsDefault);
}

export interface RunningTrib {
  grpcAddress: string;
  metricsAddress: string;
  /** Sends `signal` and resolves with how the process ended. */
  stop(signal: NodeJS.Signals): Promise<TribResult>;
}

/** Starts a long-running `trib ARGS` (e.g. `dev`) and waits for its "node started" log line. */
export function startTrib(args: string[], options: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<RunningTrib> {
  const child = spawnTrib(args, cleanEnv(options.env));
  const result = collect(child, 60_000);
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`trib did not report "node started" in time; output so far: ${buffered}`));
    }, options.timeoutMs ?? runTimeoutMsDefault);
    child.on('exit', (code) => reject(new Error(`trib exited with ${code} before starting; output: ${buffered}`)));
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const line = buffered.split('\n').find((text) => text.includes('"msg":"node started"'));
      if (line === undefined) return;
      clearTimeout(timer);
      const started = JSON.parse(line) as { grpc: string; metrics: string };
      resolve({
        grpcAddress: started.grpc,
        metricsAddress: started.metrics,
        stop: (signal) => {
          child.kill(signal);
          return result;
        },
      });
    });
  });
}
