import { describe, expect, it } from 'vitest';
import {
  decodeMetadataSnapshot, encodeMetadataSnapshot, getUploadSession, metadataImage, metadataLimits, type UploadSessionRecord, type UploadSessionSource,
  type UpsertUploadSessionCommand,
} from '../../../src/controller/index.js';
import { MetadataHarness } from './metadata-harness.js';

const digest = 'ab'.repeat(32);

function source(name: string, committedBytes: number, final = false): UploadSessionSource {
  return { name, contentType: name === 'imu' ? 'application/x-tributary-sensor' : 'audio/wav', payloadKind: name === 'imu' ? 'sensor' : 'binary', committedBytes, final };
}

function setup(): { harness: MetadataHarness; upsert: (overrides?: Partial<UpsertUploadSessionCommand>) => UpsertUploadSessionCommand } {
  const harness = new MetadataHarness();
  harness.liveBrokers(3);
  harness.createTopic('uploads');
  const upsert = (overrides: Partial<UpsertUploadSessionCommand> = {}): UpsertUploadSessionCommand => ({
    type: 'upsertUploadSession', brokerId: 1, brokerEpoch: harness.state.brokers.get(1)?.brokerEpoch ?? 0, deviceId: 'dev-1', sessionId: 's-1',
    state: 'open', topic: 'uploads', partition: 1, committedLength: 0, digest: '', createdAtMs: 5, expiresAtMs: 3_600_005, failure: '',
    sources: [source('mic', 0), source('imu', 0)], nowMs: 5, ...overrides,
  });
  return { harness, upsert };
}

/** Fills the catalog directly with terminal sessions, as many applies would have. */
function fillWithTerminalSessions(harness: MetadataHarness, count: number, sourcesEach: number): void {
  for (let index = 0; index < count; index += 1) {
    const session: UploadSessionRecord = {
      deviceId: `old-${index}`, sessionId: 's', state: 'complete', topic: 'uploads', partition: 0, committedLength: 1, digest, createdAtMs: 1,
      updatedAtMs: 1_000 + (index % 7), expiresAtMs: 0, failure: '', sources: Array.from({ length: sourcesEach }, (_, position) => source(`s${position}`, 1, true)),
    };
    harness.state.uploadSessions.set(`${session.deviceId}\u0000s`, session);
    harness.state.uploadSourceCount += sourcesEach;
  }
}

describe('upload session catalog', () => {
  it('records progress forward to completion and then closes the session', () => {
    const { harness, upsert } = setup();
    harness.ok(upsert());
    harness.ok(upsert({ state: 'receiving', committedLength: 4096, sources: [source('mic', 4096), source('imu', 0)], nowMs: 9 }));
    const complete = upsert({ state: 'complete', committedLength: 8192, digest, sources: [source('mic', 4096, true), source('imu', 4096, true)], nowMs: 12 });
    harness.ok(complete);
    expect(getUploadSession(harness.state, 'dev-1', 's-1')).toEqual({
      deviceId: 'dev-1', sessionId: 's-1', state: 'complete', topic: 'uploads', partition: 1, committedLength: 8192, digest, createdAtMs: 5,
      updatedAtMs: 12, expiresAtMs: 3_600_005, failure: '', sources: [source('mic', 4096, true), source('imu', 4096, true)],
    });
    expect(harness.deltas.at(-1)).toMatchObject({ kind: 'uploadSessionChanged', session: { state: 'complete', updatedAtMs: 12 } });
    // A retry of the completing upsert is accepted, however late; any other change is not.
    const deltasBefore = harness.deltas.length;
    expect(harness.ok({ ...complete, nowMs: 99 }).session.updatedAtMs).toBe(12);
    expect(harness.deltas.length).toBe(deltasBefore);
    expect(harness.fail({ ...complete, state: 'failed', failure: 'late' })).toEqual({
      code: 'SESSION_CLOSED', message: 'session "dev-1/s-1" is complete and accepts no more changes',
    });
    expect(harness.fail({ ...complete, expiresAtMs: 0 }).code).toBe('SESSION_CLOSED');
  });

  it('is fenced like every broker call: a replaced broker epoch cannot record', () => {
    const { harness, upsert } = setup();
    const oldEpoch = harness.state.brokers.get(1)?.brokerEpoch ?? 0;
    harness.register(1, '', 'a-new-process');
    expect(harness.fail(upsert({ brokerEpoch: oldEpoch }))).toMatchObject({ code: 'FENCED' });
    expect(harness.fail(upsert({ brokerId: 9 }))).toMatchObject({ code: 'NODE_NOT_FOUND' });
  });

  it('never lets the committed length shrink, the state go back, or the session move', () => {
    const { harness, upsert } = setup();
    harness.ok(upsert({ state: 'receiving', committedLength: 100, sources: [source('mic', 100), source('imu', 0)] }));
    expect(harness.fail(upsert({ state: 'receiving', committedLength: 99, sources: [source('mic', 100), source('imu', 0)] }))).toEqual({
      code: 'OFFSET_MISMATCH', message: 'session "dev-1/s-1" has 100 committed bytes; 99 would go backwards',
    });
    expect(harness.fail(upsert({ state: 'open', committedLength: 100 })).message).toBe('session "dev-1/s-1" is receiving; it cannot go back to open');
    expect(harness.fail(upsert({ state: 'receiving', committedLength: 100, partition: 2 })).message)
      .toBe('session "dev-1/s-1" lives on uploads/1; it cannot move to uploads/2');
    expect(harness.fail(upsert({ state: 'receiving', committedLength: 100, createdAtMs: 6 })).message)
      .toBe('session "dev-1/s-1" was created at 5 ms; its creation time cannot change to 6');
  });

  it('keeps each source monotonic, fixed once final, and never removed or changed in kind', () => {
    const { harness, upsert } = setup();
    harness.ok(upsert({ state: 'receiving', committedLength: 150, sources: [source('mic', 100, true), source('imu', 50)] }));
    const receiving = (sources: UploadSessionSource[]) => upsert({ state: 'receiving', committedLength: 200, sources });
    expect(harness.fail(receiving([source('mic', 100, true), source('imu', 40)]))).toEqual({
      code: 'OFFSET_MISMATCH', message: 'session "dev-1/s-1" source "imu" has 50 committed bytes; 40 would go backwards',
    });
    expect(harness.fail(receiving([source('mic', 120, true), source('imu', 80)]))).toEqual({
      code: 'OFFSET_MISMATCH', message: 'session "dev-1/s-1" source "mic" is final at 100 bytes; it cannot change to 120 bytes',
    });
    expect(harness.fail(receiving([source('mic', 100), source('imu', 80)])).message)
      .toBe('session "dev-1/s-1" source "mic" is final at 100 bytes; it cannot change to 100 bytes, not final');
    expect(harness.fail(receiving([source('mic', 100, true)])).message)
      .toBe('session "dev-1/s-1" has source "imu" where the update has none; sources are never removed or reordered');
    expect(harness.fail(receiving([source('mic', 100, true), { ...source('imu', 80), payloadKind: 'json' }])).message)
      .toBe('session "dev-1/s-1" source "imu" is sensor "application/x-tributary-sensor"; it cannot change to json "application/x-tributary-sensor"');
    // Sources may be added after the ones recorded.
    harness.ok(receiving([source('mic', 100, true), source('imu', 80), source('cam', 20)]));
    expect(harness.state.uploadSourceCount).toBe(3);
  });

  it('validates new sessions against the topics and every field, naming the value', () => {
    const { harness, upsert } = setup();
    expect(harness.fail(upsert({ partition: 3 })).code).toBe('PARTITION_NOT_FOUND');
    expect(harness.fail(upsert({ state: 'complete', digest: '' })).message).toBe('session "dev-1/s-1": a complete session needs its SHA-256 digest');
    expect(harness.fail(upsert({ state: 'complete', digest })).message).toBe('session "dev-1/s-1": a complete session needs every source final; "mic" is not');
    expect(harness.fail(upsert({ digest: 'XYZ' })).message).toBe('session "dev-1/s-1": digest "XYZ" must be at most 128 lowercase hex digits');
    expect(harness.fail(upsert({ failure: 'disk full' })).message)
      .toBe('session "dev-1/s-1": a open session has no failure; "disk full" is only for expired, failed, terminated sessions');
    expect(harness.fail(upsert({ state: 'failed', failure: 'x'.repeat(1025) })).message).toBe('session "dev-1/s-1": failure text of 1025 characters exceeds 1024');
    expect(harness.fail(upsert({ expiresAtMs: 4 })).message).toBe('session "dev-1/s-1": expiry time 4 ms is before its creation time 5 ms (0 means no expiry)');
    expect(harness.fail(upsert({ sources: [source('mic', 0), source('mic', 0)] })).message)
      .toBe('session "dev-1/s-1" names source "mic" twice; source names are unique in a session');
    expect(harness.fail(upsert({ sources: [source('Mic', 0)] })).message).toBe('session "dev-1/s-1": source name "Mic" must be 1-64 characters of [a-z0-9_.-]');
    expect(harness.fail(upsert({ sources: [{ ...source('mic', 0), contentType: '' }] })).message)
      .toBe('session "dev-1/s-1" source "mic": content type "" must be 1-255 characters');
    const tooMany = Array.from({ length: 65 }, (_, index) => source(`s${index}`, 0));
    expect(harness.fail(upsert({ sources: tooMany })).message).toBe('session "dev-1/s-1" has 65 sources; at most 64 are allowed');
    harness.ok(upsert({ state: 'failed', failure: 'digest mismatch', sources: [] }));
  });

  it('evicts the least recently updated terminal sessions when full, and refuses when only live ones are left', () => {
    const { harness, upsert } = setup();
    fillWithTerminalSessions(harness, metadataLimits.uploadSessionsMax, 0);
    harness.ok(upsert());
    expect(harness.state.uploadSessions.size).toBe(metadataLimits.uploadSessionsMax);
    // Oldest update first (1000, by key among equals): old-0 was updated at 1000, as were old-7, old-14, ...
    expect(harness.deltas.at(-2)).toMatchObject({ kind: 'uploadSessionRemoved', deviceId: 'old-0', sessionId: 's' });
    expect(harness.deltas.at(-1)).toMatchObject({ kind: 'uploadSessionChanged', session: { deviceId: 'dev-1' } });

    for (const session of harness.state.uploadSessions.values()) session.state = 'receiving';
    const refused = harness.fail(upsert({ sessionId: 's-2' }));
    expect(refused.code).toBe('RESOURCE_EXHAUSTED');
    expect(refused.message).toContain('would exceed the limits of 100000 sessions and 400000 sources');
  });

  it('bounds the sources over the whole catalog, evicting as many terminal sessions as needed', () => {
    const { harness, upsert } = setup();
    fillWithTerminalSessions(harness, metadataLimits.uploadSourcesMax / 64, 64);
    expect(harness.state.uploadSourceCount).toBe(metadataLimits.uploadSourcesMax);
    harness.ok(upsert({ sources: [source('mic', 0)] }));
    expect(harness.state.uploadSourceCount).toBe(metadataLimits.uploadSourcesMax - 63);
    expect(harness.deltas.filter((delta) => delta.kind === 'uploadSessionRemoved')).toHaveLength(1);
  });

  it('travels in snapshots and images with its sources', () => {
    const { harness, upsert } = setup();
    harness.ok(upsert({ state: 'receiving', committedLength: 7, sources: [source('mic', 7), source('imu', 0)] }));
    const restored = decodeMetadataSnapshot(encodeMetadataSnapshot(harness.state));
    expect(restored.uploadSessions).toEqual(harness.state.uploadSessions);
    expect(restored.uploadSourceCount).toBe(2);
    const image = metadataImage(harness.state).filter((record) => record.kind === 'uploadSessionChanged');
    expect(image).toEqual([{ kind: 'uploadSessionChanged', version: harness.state.version, session: getUploadSession(harness.state, 'dev-1', 's-1') }]);
  });
});
