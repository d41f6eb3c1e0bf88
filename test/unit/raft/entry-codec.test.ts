import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { decodeConfChange, decodeEntries, encodeConfChange, encodeEntries } from '../../../src/raft/entry-codec.js';
import type { Entry } from '../../../src/raft/raft-types.js';

describe('entry codec', () => {
  it('round-trips entries, with indices beyond 32 bits decoded as numbers', () => {
    const entries: Entry[] = [
      { index: 1, term: 1, type: 'normal', data: new Uint8Array([1, 2, 3]) },
      { index: 2 ** 40, term: 2 ** 33, type: 'confChange', data: encodeConfChange({ type: 'addLearner', nodeId: 4 }) },
      { index: Number.MAX_SAFE_INTEGER, term: 7, type: 'normal', data: new Uint8Array(0) },
    ];
    const decoded = decodeEntries(encodeEntries(entries));
    expect(decoded.map((entry) => ({ ...entry, data: [...entry.data] }))).toEqual(entries.map((entry) => ({ ...entry, data: [...entry.data] })));
    expect(typeof decoded[1]?.index).toBe('number');
  });

  it('round-trips every kind of membership change', () => {
    for (const change of [{ type: 'addLearner', nodeId: 4 }, { type: 'promoteLearner', nodeId: 4 }, { type: 'removeNode', nodeId: 2 ** 40 }] as const) {
      expect(decodeConfChange(encodeConfChange(change))).toEqual(change);
    }
  });

  it('writes plain msgpack that a reader without record extensions understands', () => {
    const plain = new Packr({ useRecords: false, int64AsType: 'number' });
    expect(plain.unpack(encodeConfChange({ type: 'removeNode', nodeId: 3 }))).toEqual({ type: 'removeNode', nodeId: 3 });
  });

  it('refuses malformed bytes with a message naming what is wrong', () => {
    const packr = new Packr({ useRecords: false });
    expect(() => decodeEntries(packr.pack([[1, -1, 0, new Uint8Array(0)]]))).toThrow('entry 0 term must be a safe non-negative integer, got -1');
    expect(() => decodeEntries(packr.pack([[1, 1, 5, new Uint8Array(0)]]))).toThrow('entry 0 has unknown type code 5');
    expect(() => decodeEntries(packr.pack([[2 ** 60, 1, 0, new Uint8Array(0)]]))).toThrow('entry 0 index must be a safe non-negative integer');
    expect(() => decodeConfChange(packr.pack({ type: 'addVoter', nodeId: 1 }))).toThrow('unknown ConfChange type addVoter');
  });
});
