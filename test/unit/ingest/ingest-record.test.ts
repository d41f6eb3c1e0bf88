import { describe, expect, it } from 'vitest';
import { TributaryError } from '../../../src/errors/index.js';
import { decodeIngestRecord, encodeIngestRecord, type IngestLogRecord, type IngestRecord } from '../../../src/ingest/ingest-record.js';

const declaration = {
  deviceId: 'device-1', sessionId: 'walk', metadata: { app: 'x' }, createdAtMs: 1, expiresAtMs: 2, idleTimeoutMs: 3,
  sources: [{ name: 'imu', contentType: 'application/x-tributary-sensor', payloadKind: 'sensor' as const, declaredLengthBytes: 10, sensor: { kind: 1, channelCount: 3, units: ['m/s2'], channelNames: [], nominalRateHz: 50 } }],
};
const records: IngestRecord[] = [
  { kind: 'session', declaration },
  { kind: 'chunk', deviceId: 'device-1', sessionId: 'walk', source: 'imu', offsetBytes: 4_096, payload: new Uint8Array([1, 2, 3]), final: false, sha256Hex: '' },
  { kind: 'chunk', deviceId: 'device-1', sessionId: 'walk', source: 'imu', offsetBytes: 4_099, payload: new Uint8Array(0), final: true, sha256Hex: 'ab'.repeat(32) },
  { kind: 'end', deviceId: 'device-1', sessionId: 'walk', end: { state: 'failed', reason: 'digest', failureCode: 'DIGEST_MISMATCH', sessionSha256Hex: '', endedAtMs: 9 } },
];

function codeOf(record: IngestLogRecord): string {
  try {
    decodeIngestRecord(record, 'at offset 7');
  } catch (error) {
    if (error instanceof TributaryError) return `${error.code}: ${error.message}`;
    throw error;
  }
  return 'decoded';
}

const utf8 = (text: string) => new TextEncoder().encode(text);
const headers = (fields: Record<string, string>) => Object.entries(fields).map(([key, value]) => ({ key, value: utf8(value) }));

describe('ingest records', () => {
  it('round-trip every kind, keyed by the device id with the kind, session and chunk position in headers', () => {
    for (const record of records) {
      const encoded = encodeIngestRecord(record);
      expect(new TextDecoder().decode(encoded.key)).toBe('device-1');
      expect(decodeIngestRecord(encoded, 'at offset 0')).toEqual(record);
    }
    const chunk = encodeIngestRecord(records[1] as IngestRecord);
    expect(Object.fromEntries(chunk.headers.map((header) => [header.key, new TextDecoder().decode(header.value)]))).toEqual({
      'tributary.kind': 'chunk', 'tributary.session': 'walk', 'tributary.source': 'imu', 'tributary.offset': '4096',
    });
    expect(chunk.value).toEqual(new Uint8Array([1, 2, 3]));
  });

  it('refuses what it cannot read with CORRUPT_RECORD naming the record and what is wrong', () => {
    const key = utf8('device-1');
    expect(codeOf({ key, value: new Uint8Array(0), headers: headers({ 'tributary.session': 'walk' }) })).toBe('CORRUPT_RECORD: ingest record at offset 7: header tributary.kind is missing; expected session, chunk or end');
    expect(codeOf({ key, value: new Uint8Array(0), headers: headers({ 'tributary.kind': 'chunk', 'tributary.session': 'walk', 'tributary.source': 'imu', 'tributary.offset': '-1' }) })).toContain('header tributary.offset "-1" is not a byte offset');
    expect(codeOf({ key, value: new Uint8Array(0), headers: headers({ 'tributary.kind': 'chunk', 'tributary.session': 'walk', 'tributary.source': 'imu', 'tributary.offset': '0', 'tributary.final': 'true', 'tributary.sha256': 'xyz' }) })).toContain('is not a lowercase hex SHA-256');
    expect(codeOf({ key, value: utf8('{not json'), headers: headers({ 'tributary.kind': 'end', 'tributary.session': 'walk' }) })).toContain('its value is not JSON');
    expect(codeOf({ key, value: utf8(JSON.stringify({ state: 'gone' })), headers: headers({ 'tributary.kind': 'end', 'tributary.session': 'walk' }) })).toContain("does not match the record's schema");
    const other = encodeIngestRecord({ kind: 'session', declaration: { ...declaration, deviceId: 'device-2' } });
    expect(codeOf({ ...other, key })).toContain('its key and headers name session "device-1/walk" but its declaration is of "device-2/walk"');
    expect(codeOf({ key: new Uint8Array([0xff, 0xfe]), value: new Uint8Array(0), headers: headers({ 'tributary.kind': 'end', 'tributary.session': 'walk' }) })).toContain('its key is not UTF-8');
  });
});
