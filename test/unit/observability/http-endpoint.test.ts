import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createLogger,
  createMetricsRegistry,
  startHttpEndpoint,
  type HttpEndpoint,
  type MetricsRegistry,
  type ReadinessReport,
} from '../../../src/observability/index.js';

const host = '127.0.0.1';
const discard = new Writable({ write: (_chunk, _encoding, done) => done() });
const silentLogger = createLogger({ level: 'silent', pretty: false, destination: discard });

/** Resolves true if a TCP connection to the port is accepted, false if it is refused. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('startHttpEndpoint', () => {
  let registry: MetricsRegistry;
  let storageOpen: boolean;
  let endpoint: HttpEndpoint;
  let url: (path: string) => string;

  beforeEach(async () => {
    registry = createMetricsRegistry();
    storageOpen = true;
    const readiness = (): ReadinessReport => ({
      ready: storageOpen,
      checks: [
        { name: 'config', ready: true },
        { name: 'storage', ready: storageOpen, ...(storageOpen ? {} : { detail: 'rocksdb is closed' }) },
      ],
    });
    endpoint = await startHttpEndpoint({ host, port: 0, registry, logger: silentLogger, readiness });
    url = (path) => `http://${endpoint.address}${path}`;
  });

  afterEach(async () => {
    await endpoint.close();
  });

  it('binds an ephemeral port and reports it', () => {
    expect(endpoint.port).toBeGreaterThan(0);
    expect(endpoint.address).toBe(`${host}:${endpoint.port}`);
  });

  it('serves RPC metrics from its own registry in the Prometheus format', async () => {
    const labels = { service: 'ProducerService', method: 'Produce', code: 'OK' };
    registry.rpcRequestsTotal.inc(labels);
    registry.rpcDurationSeconds.observe(labels, 0.0003);
    const response = await fetch(url('/metrics'));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(registry.contentType);
    const text = await response.text();
    expect(text).toContain('trib_rpc_requests_total{service="ProducerService",method="Produce",code="OK"} 1');
    expect(text).toContain(
      'trib_rpc_duration_seconds_bucket{le="0.0005",service="ProducerService",method="Produce",code="OK"} 1',
    );
    expect(text).toContain('# TYPE trib_rpc_in_flight gauge');
    expect(text).toContain('# TYPE trib_rpc_bytes_received_total counter');
    expect(text).toContain('# TYPE trib_rpc_bytes_sent_total counter');
  });

  it('answers /healthz with ok', async () => {
    const response = await fetch(url('/healthz'));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('answers /readyz 200 while ready and 503 naming the failing check after', async () => {
    const ready = await fetch(url('/readyz'));
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true });
    storageOpen = false;
    const notReady = await fetch(url('/readyz'));
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toEqual({
      ready: false,
      checks: [
        { name: 'config', ready: true },
        { name: 'storage', ready: false, detail: 'rocksdb is closed' },
      ],
    });
  });

  it('answers HEAD without a body', async () => {
    const response = await fetch(url('/healthz'), { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('');
  });

  it('answers unknown paths with 404 and other methods with 405', async () => {
    const missing = await fetch(url('/nope'));
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: string }).error).toContain('/nope');
    const posted = await fetch(url('/metrics'), { method: 'POST', body: 'x' });
    expect(posted.status).toBe(405);
    expect(posted.headers.get('allow')).toBe('GET, HEAD');
    await posted.body?.cancel();
  });

  it('closes promptly despite keep-alive connections and stops accepting', async () => {
    await (await fetch(url('/healthz'))).text();
    expect(await accepts(endpoint.port)).toBe(true);
    await endpoint.close();
    expect(await accepts(endpoint.port)).toBe(false);
    await expect(fetch(url('/healthz'))).rejects.toThrow();
  });
});

describe('startHttpEndpoint readiness failures', () => {
  const start = (readiness: () => Promise<ReadinessReport>, readinessTimeoutMs?: number): Promise<HttpEndpoint> => {
    const registry = createMetricsRegistry();
    return startHttpEndpoint({ host, port: 0, registry, logger: silentLogger, readiness, readinessTimeoutMs });
  };

  it('reports a throwing readiness probe as not ready with its message', async () => {
    const endpoint = await start(() => Promise.reject(new Error('controller unreachable')));
    try {
      const response = await fetch(`http://${endpoint.address}/readyz`);
      expect(response.status).toBe(503);
      expect(await response.json()).toEqual({
        ready: false,
        checks: [{ name: 'readiness', ready: false, detail: 'controller unreachable' }],
      });
    } finally {
      await endpoint.close();
    }
  });

  it('reports a readiness probe that does not answer in time as not ready', async () => {
    const endpoint = await start(() => new Promise<ReadinessReport>(() => undefined), 20);
    try {
      const response = await fetch(`http://${endpoint.address}/readyz`);
      expect(response.status).toBe(503);
      const report = (await response.json()) as ReadinessReport;
      expect(report.checks[0]?.detail).toContain('20 ms');
    } finally {
      await endpoint.close();
    }
  });

  it('names the address when the port is taken', async () => {
    const first = await start(() => Promise.resolve({ ready: true, checks: [] }));
    try {
      const taken = startHttpEndpoint({
        host,
        port: first.port,
        registry: createMetricsRegistry(),
        logger: silentLogger,
        readiness: () => ({ ready: true, checks: [] }),
      });
      await expect(taken).rejects.toThrow(`cannot listen on ${host}:${first.port}`);
    } finally {
      await first.close();
    }
  });
});

describe('createMetricsRegistry', () => {
  it('gives each node its own registry, with process metrics when asked', async () => {
    const first = createMetricsRegistry({ defaultMetrics: true });
    const second = createMetricsRegistry({ defaultMetrics: true });
    first.rpcInFlight.inc({ service: 'ConsumerService', method: 'Fetch' });
    expect(await first.metrics()).toContain('trib_process_cpu_user_seconds_total');
    expect(await first.metrics()).toContain('trib_rpc_in_flight{service="ConsumerService",method="Fetch"} 1');
    expect(await second.metrics()).not.toContain('method="Fetch"');
    expect(await createMetricsRegistry().metrics()).not.toContain('process_cpu');
  });
});
