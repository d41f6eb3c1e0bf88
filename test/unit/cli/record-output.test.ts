import { describe, expect, it } from 'vitest';
import { TributaryError } from '../../../src/client/index.js';
import { consumedRecordJson, consumedRecordLine, failedRecordJson, producedRecordJson } from '../../../src/cli/record-output.js';

const notUtf8 = Uint8Array.from([0xff, 0xfe, 0x00, 0x80]);

describe('how trib consume prints a record', () => {
  it('shows UTF-8 keys and values as text, and no key as null', () => {
    expect(consumedRecordJson({ partition: 1, offset: 7, key: Buffer.from('sensor-ä'), value: Buffer.from('{"t":21.5}') }))
      .toEqual({ partition: 1, offset: 7, key: 'sensor-ä', value: '{"t":21.5}' });
    expect(JSON.stringify(consumedRecordJson({ partition: 0, offset: 0, key: undefined, value: new Uint8Array(0) }))).toBe('{"partition":0,"offset":0,"key":null,"value":""}');
  });

  it('shows bytes that are not valid UTF-8 as base64 under keyBase64 / valueBase64', () => {
    expect(JSON.stringify(consumedRecordJson({ partition: 2, offset: 3, key: notUtf8, value: notUtf8 })))
      .toBe('{"partition":2,"offset":3,"keyBase64":"//4AgA==","valueBase64":"//4AgA=="}');
    expect(consumedRecordJson({ partition: 2, offset: 3, key: Buffer.from('k'), value: Uint8Array.from([0xc3]) })).toEqual({ partition: 2, offset: 3, key: 'k', valueBase64: 'ww==' });
  });

  it('prints one human line per record', () => {
    expect(consumedRecordLine({ partition: 0, offset: 12, key: undefined, value: Buffer.from('hello') })).toBe('partition 0, offset 12, key (none): hello');
    expect(consumedRecordLine({ partition: 1, offset: 0, key: Buffer.from('k1'), value: notUtf8 })).toBe('partition 1, offset 0, key k1: base64://4AgA==');
  });
});

describe('how trib produce reports a record', () => {
  it('gives the line, partition and offset of an acknowledged record, and no offset under acks none', () => {
    expect(JSON.stringify(producedRecordJson(3, { topic: 't', partition: 1, offset: 41, timestampMs: 5 }))).toBe('{"line":3,"partition":1,"offset":41}');
    expect(JSON.stringify(producedRecordJson(4, { topic: 't', partition: 0, offset: -1, timestampMs: 5 }))).toBe('{"line":4,"partition":0}');
  });

  it('gives the line and the error of a failed record', () => {
    const error = new TributaryError('PARTITION_NOT_FOUND', 'topic "t" has 1 partition; partition 9 does not exist');
    expect(JSON.stringify(failedRecordJson(2, error)))
      .toBe('{"line":2,"error":{"code":"PARTITION_NOT_FOUND","message":"topic \\"t\\" has 1 partition; partition 9 does not exist","retriable":false}}');
  });
});
