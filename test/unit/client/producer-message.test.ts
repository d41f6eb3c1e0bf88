import { describe, expect, it } from 'vitest';
import { producerRecordOf, recordSizeBoundBytes } from '../../../src/client/producer-message.js';
import { encodeRecordBatch } from '../../../src/rpc/clients/index.js';

describe('records as callers hand them in', () => {
  it('sends strings as UTF-8 and stamps the send time when no timestamp is given', () => {
    const record = producerRecordOf({ key: 'k', value: 'héllo', headers: [{ key: 'h', value: 'v' }] }, 1_700);
    expect(record).toEqual({ key: Buffer.from('k'), value: Buffer.from('héllo'), timestampMs: 1_700, headers: [{ key: 'h', value: Buffer.from('v') }] });
  });

  it('refuses a bad timestamp with the value named', () => {
    expect(() => producerRecordOf({ value: 'x', timestampMs: -5 }, 0)).toThrow('timestampMs -5 is not a non-negative integer of milliseconds since the Unix epoch');
  });

  it('bounds the bytes a record adds to an encoded batch from above', () => {
    const records = [
      producerRecordOf({ value: '' }, 0),
      producerRecordOf({ key: 'key', value: 'x'.repeat(300), timestampMs: 2 ** 40 }, 0),
      producerRecordOf({ value: new Uint8Array(70_000), headers: [{ key: 'trace', value: 'abc' }, { key: 'ü', value: new Uint8Array(200) }] }, 0),
    ];
    const bound = records.reduce((sum, record) => sum + recordSizeBoundBytes(record), 0);
    expect(encodeRecordBatch(records).records.byteLength).toBeLessThanOrEqual(bound);
  });
});
