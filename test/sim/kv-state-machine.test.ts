import { describe, expect, it } from 'vitest';
import { ClientHistory } from './client-history.js';
import { decodeKvProposal, encodeKvProposal, KvStateMachine } from './kv-state-machine.js';
import { unknownOutput } from './linearizability/history.js';

describe('KvStateMachine', () => {
  it('puts, appends and reads, and restores the same state from its snapshot bytes', () => {
    const machine = new KvStateMachine();
    machine.apply({ kind: 'put', key: 'x', value: 'a' });
    machine.apply({ kind: 'append', key: 'x', value: 'b' });
    machine.apply({ kind: 'append', key: 'y', value: 'c' });
    expect([machine.get('x'), machine.get('y'), machine.get('z')]).toEqual(['ab', 'c', undefined]);
    const restored = KvStateMachine.restore(machine.serialize());
    expect([restored.get('x'), restored.get('y')]).toEqual(['ab', 'c']);
    expect(restored.serialize()).toEqual(machine.serialize());
    expect(KvStateMachine.restore(new Uint8Array(0)).get('x')).toBeUndefined();
  });

  it('carries proposals through msgpack, and refuses entry data that is not one', () => {
    const proposal = { clientId: 3, operationId: 9, input: { kind: 'append', key: 'k1', value: '3.4 ' } } as const;
    expect(decodeKvProposal(encodeKvProposal(proposal))).toEqual(proposal);
    expect(() => decodeKvProposal(encodeKvProposal({ ...proposal, input: { kind: 'get', key: 'k' } } as never))).toThrow(/not a key-value proposal/);
  });
});

describe('ClientHistory', () => {
  it('keeps completed and unknown operations, and drops those known not to have happened', () => {
    const history = new ClientHistory();
    const done = history.invoke(1, { kind: 'put', key: 'x', value: 'a' }, 10);
    const lost = history.invoke(2, { kind: 'put', key: 'x', value: 'b' }, 11);
    const unknown = history.invoke(3, { kind: 'append', key: 'x', value: 'c' }, 12);
    history.complete(done, undefined, 20);
    history.discard(lost);
    history.markUnknown(unknown);
    expect(history.history()).toEqual([
      { clientId: 1, input: { kind: 'put', key: 'x', value: 'a' }, output: undefined, callTime: 10, returnTime: 20 },
      { clientId: 3, input: { kind: 'append', key: 'x', value: 'c' }, output: unknownOutput, callTime: 12, returnTime: Infinity },
    ]);
    expect(history.unknownOperations).toBe(1);
    expect(() => history.complete(done, undefined, 30)).toThrow(/not pending/);
  });
});
