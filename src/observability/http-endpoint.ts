import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from './create-logger.js';
import type { MetricsRegistry } from './metrics-registry.js';

/** One named readiness condition, such as "storage open" or "joined the controller quorum". */
export interface ReadinessCheck {
  name: string;
  ready: boolean;
  detail?: string;
}

export interface ReadinessReport {
  ready: boolean;
  checks: ReadinessCheck[];
}

export type ReadinessProbe = () => ReadinessReport | Promise<ReadinessReport>;

export interface HttpEndpointOptions {
  host: string;
  /** 0 binds an ephemeral port; read the bound one from `HttpEndpoint.port`. */
  port: number;
  registry: MetricsRegistry;
  logger: Logger;
  readiness: ReadinessProbe;
  /** A readiness probe slower than this counts as not ready; defaults to 5 s. */
  readinessTimeoutMs?: number;
}

export interface HttpEndpoint {
  readonly port: number;
  /** "host:port" of the bound socket, IPv6 hosts in brackets. */
  readonly address: string;
  /** Stops accepting, drops open (including idle keep-alive) connections and resolves when closed. */
  close(): Promise<void>;
}

// Scrapes and probes are tiny GETs; anything slower than these is a stuck or hostile client.
const headersTimeoutMs = 5_000;
const requestTimeoutMs = 10_000;
const keepAliveTimeoutMs = 5_000;
const headersCountMax = 64;
const connectionsMax = 256;
const readinessTimeoutMsDefault = 5_000;

type Reply = { status: number; contentType: string; body: string; allow?: string };

/** Serves `/metrics`, `/healthz` and `/readyz` over plain HTTP on the node's metrics port. */
export async function startHttpEndpoint(options: HttpEndpointOptions): Promise<HttpEndpoint> {
  const serverOptions = {
    headersTimeout: headersTimeoutMs,
    requestTimeout: requestTimeoutMs,
    keepAliveTimeout: keepAliveTimeoutMs,
  };
  const server = createServer(serverOptions, (request, response) => void serve(options, request, response));
  server.maxHeadersCount = headersCountMax;
  server.maxConnections = connectionsMax;
  await listen(server, options.host, options.port);
  const bound = server.address() as AddressInfo;
  const host = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  const address = `${host}:${bound.port}`;
  options.logger.info({ address }, 'metrics endpoint listening');
  let closing: Promise<void> | undefined;
  return {
    port: bound.port,
    address,
    close: () => (closing ??= closeServer(server)),
  };
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => {
      const reason = `metrics endpoint cannot listen on ${host}:${port} (${error.message})`;
      reject(new Error(`${reason}; choose a free metrics port`));
    };
    server.once('error', onError);
    server.listen({ host, port }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error === undefined ? resolve() : reject(error)));
    // close() only waits for open connections; a scraper's keep-alive socket would hold it open.
    server.closeAllConnections();
  });
}

async function serve(
  options: HttpEndpointOptions,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  let reply: Reply;
  try {
    reply = await route(options, request);
  } catch (error: unknown) {
    options.logger.warn({ err: error, url: request.url }, 'metrics endpoint request failed');
    reply = json(500, { error: 'internal error' });
  }
  response.writeHead(reply.status, {
    'content-type': reply.contentType,
    'content-length': Buffer.byteLength(reply.body),
    'cache-control': 'no-store',
    ...(reply.allow === undefined ? {} : { allow: reply.allow }),
  });
  // Node omits the body of a HEAD response by itself.
  response.end(reply.body);
}

async function route(options: HttpEndpointOptions, request: IncomingMessage): Promise<Reply> {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    const error = `method ${request.method ?? ''} is not allowed; use GET or HEAD`;
    return { ...json(405, { error }), allow: 'GET, HEAD' };
  }
  const path = new URL(request.url ?? '/', 'http://localhost').pathname;
  switch (path) {
    case '/metrics': {
      const body = await options.registry.metrics();
      return { status: 200, contentType: options.registry.contentType, body };
    }
    case '/healthz':
      return json(200, { status: 'ok' });
    case '/readyz': {
      const timeoutMs = options.readinessTimeoutMs ?? readinessTimeoutMsDefault;
      const report = await probeReadiness(options.readiness, timeoutMs);
      return json(report.ready ? 200 : 503, report);
    }
    default:
      return json(404, { error: `no such path ${path}; try /metrics, /healthz or /readyz` });
  }
}

/** Runs the probe; a probe that throws or does not answer in time reports not ready. */
async function probeReadiness(probe: ReadinessProbe, timeoutMs: number): Promise<ReadinessReport> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<ReadinessReport>((resolve) => {
    const detail = `readiness probe did not answer within ${timeoutMs} ms`;
    timer = setTimeout(() => resolve(notReady(detail)), timeoutMs);
  });
  try {
    return await Promise.race([Promise.resolve().then(probe), timeout]);
  } catch (error: unknown) {
    return notReady(error instanceof Error ? error.message : String(error));
  } finally {
    clearTimeout(timer);
  }
}

function notReady(detail: string): ReadinessReport {
  return { ready: false, checks: [{ name: 'readiness', ready: false, detail }] };
}

function json(status: number, body: unknown): Reply {
  return { status, contentType: 'application/json; charset=utf-8', body: JSON.stringify(body) };
}
