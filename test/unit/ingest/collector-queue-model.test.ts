// A property over random operation sequences (declare, append, acknowledge, finish, drop, reopen):
// after every step the queue's sessions and pending bytes equal an in-memory model's, with small
// segments so that rolls, checkpoints and deletions happen all the time.
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CollectorQueueLimits } from '../../../src/ingest/collector-queue-limits.js';
import { CollectorQueue } from '../../../src/ingest/collector-queue.js';
import { patternBytes } from './collector-queue-fixture.js';

const limits: Partial<CollectorQueueLimits> = { segmentBytesMax: 80 * 1024, entryBytesMax: 16 * 1024, queueBytesMax: 16 * 1024 * 1024 };
const sessionIds = ['a', 'b', 'c'] as const;
const sourceNames = ['mic', 'notes'] as const;
const propertyRuns = 150;
const operationsMax = 60;

type Operation =
  | { readonly kind: 'declare'; readonly session: number }
  | { readonly kind: 'append'; readonly session: number; readonly source: number; readonly lengthBytes: number; readonly seed: number }
  | { readonly kind: 'acknowledge'; readonly session: number; readonly source: number; readonly fraction: number; readonly lessBytes: number }
  | { readonly kind: 'acknowledgeAll'; readonly lessBytes: number }
  | { readonly kind: 'finish'; readonly session: number; readonly source: number }
  | { readonly kind: 'drop'; readonly session: number }
  | { readonly kind: 'reopen' };

const session = fc.integer({ min: 0, max: sessionIds.length - 1 });
const source = fc.integer({ min: 0, max: sourceNames.length - 1 });
const operationArbitrary: fc.Arbitrary<Operation> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('declare' as const), session }) },
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('append' as const), session, source, lengthBytes: fc.integer({ min: 0, max: 16 * 1024 }), seed: fc.nat(255) }) },
  { weight: 4, arbitrary: fc.record({
      kind: fc.constant('acknowledge' as const),
      session,
      source,
      fraction: fc.oneof(fc.constant(1), fc.double({ min: 0, max: 1.1, noNaN: true })),
      // All but a byte or two: the boundary where a segment must still be kept.
      lessBytes: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 2 })),
    }) },
  // Every source up to all but 0-2 bytes: whole segments become deletable, or must just not be.
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('acknowledgeAll' as const), lessBytes: fc.integer({ min: 0, max: 2 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('finish' as const), session, source }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('drop' as const), session }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'reopen' as const }) },
);

interface ModelSource {
  bytes: Buffer;
  acknowledgedBytes: number;
  final: boolean;
}

type Model = Map<string, Map<string, ModelSource>>;

function declaration(sessionId: string) {
  return {
    sessionId,
    sources: [
      { name: 'mic', contentType: 'audio/wav', payloadKind: 'binary' as const },
      { name: 'notes', contentType: 'application/x-ndjson', payloadKind: 'json' as const },
    ],
    createdAtMs: 1,
  };
}

/** Runs one operation on both; the queue must fail exactly where the model says it must. */
async function step(queue: CollectorQueue, model: Model, operation: Exclude<Operation, { kind: 'reopen' }>): Promise<void> {
  if (operation.kind === 'acknowledgeAll') {
    for (const [sessionId, sources] of model) {
      for (const [name, modelSource] of sources) {
        await stepSource(queue, sessionId, name, modelSource, { kind: 'acknowledge', session: 0, source: 0, fraction: 1, lessBytes: operation.lessBytes });
      }
    }
    return;
  }
  const sessionId = sessionIds[operation.session] as string;
  const modelSession = model.get(sessionId);
  if (operation.kind === 'declare') {
    await queue.declareSession(declaration(sessionId));
    if (modelSession === undefined) model.set(sessionId, new Map(sourceNames.map((name) => [name, { bytes: Buffer.alloc(0), acknowledgedBytes: 0, final: false }])));
    return;
  }
  if (modelSession === undefined) {
    const call = operation.kind === 'drop' ? queue.dropSession(sessionId) : queue.finish(sessionId, 'mic');
    await expect(call).rejects.toMatchObject({ code: 'SESSION_NOT_FOUND' });
    return;
  }
  if (operation.kind === 'drop') {
    await queue.dropSession(sessionId);
    model.delete(sessionId);
    return;
  }
  const name = sourceNames[operation.source] as string;
  const modelSource = modelSession.get(name) as ModelSource;
  await stepSource(queue, sessionId, name, modelSource, operation);
}

async function stepSource(queue: CollectorQueue, sessionId: string, name: string, modelSource: ModelSource, operation: Exclude<Operation, { kind: 'reopen' | 'declare' | 'drop' | 'acknowledgeAll' }>): Promise<void> {
  if (operation.kind === 'append') {
    const bytes = patternBytes(operation.seed, modelSource.bytes.length, operation.lengthBytes);
    if (modelSource.final) {
      await expect(queue.append(sessionId, name, bytes)).rejects.toMatchObject({ code: 'SESSION_CLOSED' });
      return;
    }
    expect(await queue.append(sessionId, name, bytes)).toBe(modelSource.bytes.length);
    modelSource.bytes = Buffer.concat([modelSource.bytes, bytes]);
  } else if (operation.kind === 'acknowledge') {
    const offsetBytes = Math.max(0, Math.floor(operation.fraction * modelSource.bytes.length) - operation.lessBytes);
    if (offsetBytes > modelSource.bytes.length) {
      await expect(queue.acknowledge(sessionId, name, offsetBytes)).rejects.toMatchObject({ code: 'OFFSET_OUT_OF_RANGE' });
      return;
    }
    expect(await queue.acknowledge(sessionId, name, offsetBytes)).toBe(offsetBytes > modelSource.acknowledgedBytes);
    modelSource.acknowledgedBytes = Math.max(modelSource.acknowledgedBytes, offsetBytes);
  } else {
    const finished = await queue.finish(sessionId, name);
    expect(Buffer.from(finished.sha256).toString('hex')).toBe(createHash('sha256').update(modelSource.bytes).digest('hex'));
    modelSource.final = true;
  }
}

/** The queue's sessions and every source's pending bytes equal the model's. */
async function checkAgainstModel(queue: CollectorQueue, model: Model): Promise<void> {
  const sessions = queue.sessions();
  expect(sessions.map((queued) => queued.declaration.sessionId).sort()).toEqual([...model.keys()].sort());
  for (const queued of sessions) {
    const modelSession = model.get(queued.declaration.sessionId) as Map<string, ModelSource>;
    for (const queuedSource of queued.sources) {
      const modelSource = modelSession.get(queuedSource.name) as ModelSource;
      expect(queuedSource).toMatchObject({ appendedBytes: modelSource.bytes.length, acknowledgedBytes: modelSource.acknowledgedBytes, final: modelSource.final });
      const pending = await queue.pending(queued.declaration.sessionId, queuedSource.name, 0, modelSource.bytes.length + 1);
      expect(pending.offsetBytes).toBe(modelSource.acknowledgedBytes);
      expect(Buffer.from(pending.bytes).equals(modelSource.bytes.subarray(modelSource.acknowledgedBytes))).toBe(true);
    }
  }
}

describe('CollectorQueue against a model', () => {
  it('always holds exactly the model\'s unacknowledged bytes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(operationArbitrary, { maxLength: operationsMax }), async (operations) => {
        const directory = await mkdtemp(join(tmpdir(), 'tributary-collector-queue-model-'));
        let queue = await CollectorQueue.open(directory, limits);
        try {
          const model: Model = new Map();
          // Every session starts declared, so that most operations reach a session; drops and
          // declarations in the sequence still come and go.
          const declarations = sessionIds.map((_, index): Operation => ({ kind: 'declare', session: index }));
          for (const operation of [...declarations, ...operations]) {
            if (operation.kind === 'reopen') {
              await queue.close();
              queue = await CollectorQueue.open(directory, limits);
              expect(queue.recovery.truncatedTail).toBeUndefined();
            } else {
              await step(queue, model, operation);
            }
            await checkAgainstModel(queue, model);
          }
        } finally {
          await queue.close();
          await rm(directory, { recursive: true, force: true });
        }
      }),
      { numRuns: propertyRuns },
    );
  });
});
