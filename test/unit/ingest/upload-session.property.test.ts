import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TributaryError } from '../../../src/errors/index.js';
import type { SessionDeclaration } from '../../../src/ingest/ingest-types.js';
import { IngestPartitionFixture } from './ingest-partition-fixture.js';

/*
 * Random chunk sequences against a model of one session. Each operation is built from the model's
 * state when it runs (so a "next" chunk really continues its source), then sent through the real
 * IngestPartition over a real PartitionLeader; after every one, the outcome (stored, duplicate,
 * or the exact refusal code) and the committed bytes read back must equal the model's, and at the
 * end a replay under a new leader epoch must rebuild the same sessions.
 */

interface ModelSource {
  readonly name: string;
  /** Everything the device will ever send for this source. */
  readonly truth: Buffer;
  readonly declared: boolean;
  committed: number;
  final: boolean;
}

interface Model {
  readonly sources: ModelSource[];
  failed: boolean;
}

type Expected = { kind: 'stored'; storedBytes: number; duplicateBytes: number } | { kind: 'refused'; code: string };

type Operation =
  | { kind: 'next'; source: number; lengthBytes: number; final: boolean }
  | { kind: 'repeat'; source: number; startFraction: number; lengthBytes: number }
  | { kind: 'overlap'; source: number; backBytes: number; lengthBytes: number }
  | { kind: 'altered'; source: number; backBytes: number; flipAt: number }
  | { kind: 'gap'; source: number; skipBytes: number }
  | { kind: 'unknownSource' }
  | { kind: 'wrongDigest'; source: number }
  | { kind: 'pastEnd'; source: number };

interface Chunk {
  readonly source: string;
  readonly offsetBytes: number;
  readonly payload: Buffer;
  readonly final: boolean;
  readonly sha256Hex: string;
}

const sha256Hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

const sourceArbitrary = fc.record({ truth: fc.uint8Array({ minLength: 1, maxLength: 300 }), declared: fc.boolean() });
const operationArbitrary = (sources: number): fc.Arbitrary<Operation> => {
  const source = fc.nat({ max: sources - 1 });
  return fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('next' as const), source, lengthBytes: fc.integer({ min: 1, max: 120 }), final: fc.boolean() }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('repeat' as const), source, startFraction: fc.double({ min: 0, max: 1, noNaN: true }), lengthBytes: fc.integer({ min: 1, max: 80 }) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('overlap' as const), source, backBytes: fc.integer({ min: 1, max: 60 }), lengthBytes: fc.integer({ min: 2, max: 120 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('altered' as const), source, backBytes: fc.integer({ min: 1, max: 60 }), flipAt: fc.nat({ max: 59 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('gap' as const), source, skipBytes: fc.integer({ min: 1, max: 50 }) }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'unknownSource' as const }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('wrongDigest' as const), source }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('pastEnd' as const), source }) },
  );
};
const scenarioArbitrary = fc.array(sourceArbitrary, { minLength: 1, maxLength: 3 }).chain((sources) => fc.record({
  sources: fc.constant(sources),
  operations: fc.array(operationArbitrary(sources.length), { minLength: 1, maxLength: 40 }),
}));

/** The chunk an operation sends now, or undefined when it makes no sense in the model's state (skipped). */
function chunkOf(operation: Operation, model: Model): Chunk | undefined {
  if (operation.kind === 'unknownSource') return { source: 'nope', offsetBytes: 0, payload: Buffer.from('x'), final: false, sha256Hex: '' };
  const source = model.sources[operation.source] as ModelSource;
  const { truth, committed, name } = source;
  const slice = (from: number, to: number): Chunk => ({ source: name, offsetBytes: from, payload: truth.subarray(from, to), final: false, sha256Hex: '' });
  switch (operation.kind) {
    case 'next': {
      if (committed >= truth.length && source.final) return undefined;
      const end = Math.min(truth.length, committed + operation.lengthBytes);
      const closes = operation.final && end === truth.length;
      if (end === committed && !closes) return undefined;
      return { ...slice(committed, end), final: closes, sha256Hex: closes ? sha256Hex(truth) : '' };
    }
    case 'repeat': {
      if (committed === 0) return undefined;
      const from = Math.floor(operation.startFraction * (committed - 1));
      return slice(from, Math.min(committed, from + operation.lengthBytes));
    }
    case 'overlap': {
      if (committed === 0) return undefined;
      const from = Math.max(0, committed - operation.backBytes);
      return slice(from, Math.min(truth.length, from + operation.lengthBytes));
    }
    case 'altered': {
      if (committed === 0) return undefined;
      const from = Math.max(0, committed - operation.backBytes);
      const payload = Buffer.from(truth.subarray(from, committed));
      const at = operation.flipAt % payload.length;
      payload[at] = (payload[at] as number) ^ 0x5a;
      return { source: name, offsetBytes: from, payload, final: false, sha256Hex: '' };
    }
    case 'gap':
      return slice(committed + operation.skipBytes, committed + operation.skipBytes + 10);
    case 'wrongDigest': {
      if (source.final) return undefined;
      return { ...slice(committed, truth.length), final: true, sha256Hex: sha256Hex(Buffer.from('not the source')) };
    }
    case 'pastEnd':
      // Past the end only means something for a declared length; an undeclared source just grows.
      if (!source.declared) return undefined;
      return { source: name, offsetBytes: committed, payload: Buffer.concat([truth.subarray(committed), Buffer.from('!')]), final: false, sha256Hex: '' };
  }
}

/** What the contract says a chunk must do, in the order the broker checks (docs/INGEST.md, "Deciding a chunk"). */
function expectedOf(chunk: Chunk, model: Model): Expected {
  if (model.failed) return { kind: 'refused', code: 'SESSION_CLOSED' };
  const source = model.sources.find((candidate) => candidate.name === chunk.source);
  if (source === undefined) return { kind: 'refused', code: 'INVALID_REQUEST' };
  const end = chunk.offsetBytes + chunk.payload.length;
  if (chunk.payload.length === 0 && !chunk.final) return { kind: 'refused', code: 'INVALID_REQUEST' };
  if (chunk.offsetBytes > source.committed) return { kind: 'refused', code: 'OFFSET_MISMATCH' };
  if (source.declared && end > source.truth.length) return { kind: 'refused', code: 'INVALID_REQUEST' };
  const overlapEnd = Math.min(end, source.committed);
  if (!source.truth.subarray(chunk.offsetBytes, overlapEnd).equals(chunk.payload.subarray(0, overlapEnd - chunk.offsetBytes))) return { kind: 'refused', code: 'OFFSET_MISMATCH' };
  const tailBytes = Math.max(0, end - source.committed);
  if (tailBytes === 0 && !chunk.final) return { kind: 'stored', storedBytes: 0, duplicateBytes: chunk.payload.length };
  if (source.final) {
    const repeatsFinal = tailBytes === 0 && end === source.committed && chunk.sha256Hex === sha256Hex(source.truth);
    return repeatsFinal ? { kind: 'stored', storedBytes: 0, duplicateBytes: chunk.payload.length } : { kind: 'refused', code: 'INVALID_REQUEST' };
  }
  if (chunk.final) {
    if (end < source.committed || (source.declared && end !== source.truth.length)) return { kind: 'refused', code: 'INVALID_REQUEST' };
    const stored = Buffer.concat([source.truth.subarray(0, source.committed), chunk.payload.subarray(chunk.payload.length - tailBytes)]);
    if (sha256Hex(stored) !== chunk.sha256Hex) return { kind: 'refused', code: 'DIGEST_MISMATCH' };
  }
  return { kind: 'stored', storedBytes: tailBytes, duplicateBytes: chunk.payload.length - tailBytes };
}

function apply(expected: Expected, chunk: Chunk, model: Model): void {
  if (expected.kind === 'refused') {
    if (expected.code === 'DIGEST_MISMATCH') model.failed = true;
    return;
  }
  const source = model.sources.find((candidate) => candidate.name === chunk.source) as ModelSource;
  source.committed = Math.max(source.committed, chunk.offsetBytes + chunk.payload.length);
  source.final ||= chunk.final;
}

async function send(fixture: IngestPartitionFixture, declaration: SessionDeclaration, chunk: Chunk): Promise<Expected> {
  const { partition } = fixture;
  const session = partition.state.require(declaration.deviceId, declaration.sessionId);
  try {
    const { committed } = await partition.upload(session, chunk, fixture.clock.nowMs() + 60_000, new AbortController().signal);
    return { kind: 'stored', ...(await committed) };
  } catch (error) {
    if (error instanceof TributaryError) return { kind: 'refused', code: error.code };
    throw error;
  }
}

async function committedBytesOf(fixture: IngestPartitionFixture, declaration: SessionDeclaration, name: string): Promise<Buffer> {
  const { partition } = fixture;
  const source = partition.state.require(declaration.deviceId, declaration.sessionId).source(name);
  const committedBytes = source.committedBytes(partition.log.highWatermark());
  return Buffer.concat(await partition.readSource(source, 0, committedBytes, false));
}

async function checkAgainstModel(fixture: IngestPartitionFixture, declaration: SessionDeclaration, model: Model): Promise<void> {
  const session = fixture.partition.state.require(declaration.deviceId, declaration.sessionId);
  const highWatermark = fixture.partition.log.highWatermark();
  expect(session.progress(highWatermark)).toEqual(model.sources.map((source) => ({ source: source.name, committedBytes: source.committed, final: source.final })));
  for (const source of model.sources) expect((await committedBytesOf(fixture, declaration, source.name)).equals(source.truth.subarray(0, source.committed))).toBe(true);
  if (model.failed) expect(session.state(highWatermark)).toBe('failed');
}

describe('upload session against a model (fast-check)', () => {
  it('stores exactly the model\'s committed bytes, answers every chunk as the contract says, and replays to the same state', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArbitrary, async ({ sources, operations }) => {
        const fixture = await IngestPartitionFixture.open();
        const model: Model = { sources: sources.map((source, index) => ({ name: `s${index}`, truth: Buffer.from(source.truth), declared: source.declared, committed: 0, final: false })), failed: false };
        const declaration: SessionDeclaration = {
          deviceId: 'device-p', sessionId: 'property', metadata: {}, createdAtMs: fixture.clock.nowMs(), expiresAtMs: fixture.clock.nowMs() + 86_400_000, idleTimeoutMs: 86_400_000,
          sources: model.sources.map((source) => ({ name: source.name, contentType: 'application/octet-stream', payloadKind: 'binary', declaredLengthBytes: source.declared ? source.truth.length : undefined })),
        };
        await fixture.partition.create(declaration, fixture.clock.nowMs() + 60_000, new AbortController().signal);
        for (const operation of operations) {
          const chunk = chunkOf(operation, model);
          if (chunk === undefined) continue;
          const expected = expectedOf(chunk, model);
          expect({ operation: operation.kind, outcome: await send(fixture, declaration, chunk) }).toEqual({ operation: operation.kind, outcome: expected });
          apply(expected, chunk, model);
          await checkAgainstModel(fixture, declaration, model);
        }
        await fixture.reopen();
        await checkAgainstModel(fixture, declaration, model);
      }),
      { numRuns: 200 },
    );
  }, 120_000);
});
