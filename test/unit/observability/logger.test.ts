import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  componentLogger,
  createLogger,
  currentRequestContext,
  runWithRequestContext,
} from '../../../src/observability/index.js';

/** A destination that keeps every line written to it. */
function memoryDestination(): { stream: Writable; lines: () => string[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString('utf8'));
      callback();
    },
  });
  const lines = (): string[] => chunks.join('').split('\n').filter((line) => line.length > 0);
  return { stream, lines };
}

function records(lines: string[]): Record<string, unknown>[] {
  return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('createLogger', () => {
  it('writes JSON lines with name, pid, hostname and an ISO time', () => {
    const memory = memoryDestination();
    const logger = createLogger({ level: 'info', pretty: false, destination: memory.stream });
    logger.info({ partition: 3 }, 'opened');
    const [line, ...rest] = records(memory.lines());
    expect(rest).toEqual([]);
    expect(line).toMatchObject({ name: 'trib', pid: process.pid, msg: 'opened', partition: 3, level: 30 });
    expect(typeof line?.['hostname']).toBe('string');
    expect(new Date(String(line?.['time'])).toISOString()).toBe(line?.['time']);
  });

  it('uses the given name', () => {
    const memory = memoryDestination();
    const logger = createLogger({ level: 'info', pretty: false, name: 'trib-broker', destination: memory.stream });
    logger.info('up');
    expect(records(memory.lines())[0]).toMatchObject({ name: 'trib-broker' });
  });

  it('drops lines below the level', () => {
    const memory = memoryDestination();
    const logger = createLogger({ level: 'warn', pretty: false, destination: memory.stream });
    logger.debug('not shown');
    logger.info('not shown');
    logger.warn('shown');
    logger.error('shown too');
    expect(records(memory.lines()).map((line) => line['msg'])).toEqual(['shown', 'shown too']);
  });

  it('rejects an unknown level naming it and the known ones', () => {
    const create = (): unknown => createLogger({ level: 'verbose', pretty: false });
    expect(create).toThrow(/log level "verbose" is unknown; use one of .*debug/);
  });

  it('gives a component logger a component field', () => {
    const memory = memoryDestination();
    const root = createLogger({ level: 'info', pretty: false, destination: memory.stream });
    componentLogger(root, 'raft-host').info('elected');
    expect(records(memory.lines())[0]).toMatchObject({ component: 'raft-host', msg: 'elected' });
  });

  it('writes human-readable lines when pretty', () => {
    const memory = memoryDestination();
    createLogger({ level: 'info', pretty: true, destination: memory.stream }).info('pretty hello');
    const [line] = memory.lines();
    expect(line).toContain('pretty hello');
    expect(() => JSON.parse(line ?? '') as unknown).toThrow();
  });
});

describe('createLogger without pino-pretty', () => {
  afterEach(() => {
    vi.doUnmock('node:module');
    vi.resetModules();
  });

  it('falls back to JSON with one warning line', async () => {
    vi.resetModules();
    vi.doMock('node:module', () => ({
      createRequire: () => () => {
        throw new Error("Cannot find module 'pino-pretty'");
      },
    }));
    const reloaded = await import('../../../src/observability/create-logger.js');
    const memory = memoryDestination();
    reloaded.createLogger({ level: 'info', pretty: true, destination: memory.stream }).info('still logging');
    const [warning, line, ...rest] = records(memory.lines());
    expect(warning).toMatchObject({ level: 40, reason: "Cannot find module 'pino-pretty'" });
    expect(line).toMatchObject({ msg: 'still logging' });
    expect(rest).toEqual([]);
  });
});

describe('request context', () => {
  it('adds requestId and traceId to lines logged inside a request, by any child logger', async () => {
    const memory = memoryDestination();
    const root = createLogger({ level: 'info', pretty: false, destination: memory.stream });
    const broker = componentLogger(root, 'broker');
    await runWithRequestContext({ requestId: 'r-1', traceId: 't-1', method: 'Produce' }, async () => {
      broker.info('before await');
      await new Promise((resolve) => setImmediate(resolve));
      broker.child({ partition: 0 }).info('after await');
    });
    broker.info('outside');
    const [before, after, outside] = records(memory.lines());
    expect(before).toMatchObject({ requestId: 'r-1', traceId: 't-1', component: 'broker' });
    expect(after).toMatchObject({ requestId: 'r-1', traceId: 't-1', partition: 0 });
    expect(outside).not.toHaveProperty('requestId');
    expect(outside).not.toHaveProperty('traceId');
  });

  it('omits traceId when the request has none and keeps concurrent requests apart', async () => {
    const memory = memoryDestination();
    const logger = createLogger({ level: 'info', pretty: false, destination: memory.stream });
    const serve = (requestId: string): Promise<void> =>
      runWithRequestContext({ requestId }, async () => {
        await new Promise((resolve) => setImmediate(resolve));
        logger.info({ served: requestId }, 'served');
      });
    await Promise.all([serve('a'), serve('b')]);
    const lines = records(memory.lines());
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(line['requestId']).toBe(line['served']);
      expect(line).not.toHaveProperty('traceId');
    }
  });

  it('exposes the current context only inside the request', () => {
    expect(currentRequestContext()).toBeUndefined();
    const context = { requestId: 'r-2', clientId: 'device-9' };
    const inside = runWithRequestContext(context, () => currentRequestContext());
    expect(inside).toEqual({ requestId: 'r-2', clientId: 'device-9' });
    expect(currentRequestContext()).toBeUndefined();
  });

  it('rejects an empty requestId', () => {
    expect(() => runWithRequestContext({ requestId: '' }, () => 0)).toThrow(/non-empty requestId/);
  });
});
