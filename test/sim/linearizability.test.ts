import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkLinearizable } from './linearizability/check-linearizable.js';
import { HistoryRecorder, unknownOutput, type History, type Operation } from './linearizability/history.js';
import { kvModel, type KvInput, type KvOutput } from './linearizability/kv-model.js';

type KvOperation = Operation<KvInput, KvOutput>;

const put = (key: string, value: string): KvInput => ({ kind: 'put', key, value });
const append = (key: string, value: string): KvInput => ({ kind: 'append', key, value });
const get = (key: string): KvInput => ({ kind: 'get', key });

function completed(clientId: number, input: KvInput, output: KvOutput, callTime: number, returnTime: number): KvOperation {
  return { clientId, input, output, callTime, returnTime };
}

function pending(clientId: number, input: KvInput, callTime: number): KvOperation {
  return { clientId, input, output: unknownOutput, callTime, returnTime: Infinity };
}

/** The same model checked as one partition, to show partitioning never changes a verdict. */
const unpartitionedKvModel = { ...kvModel, partition: undefined };

function verdict(history: History<KvInput, KvOutput>): string {
  const partitioned = checkLinearizable(kvModel, history).result;
  expect(checkLinearizable(unpartitionedKvModel, history).result).toBe(partitioned);
  return partitioned;
}

describe('linearizable histories', () => {
  it('accepts the empty history', () => {
    expect(verdict([])).toBe('ok');
  });

  it('accepts a sequential history over two keys', () => {
    const history = [
      completed(0, put('x', '1'), undefined, 0, 1),
      completed(1, get('x'), '1', 2, 3),
      completed(0, put('x', '2'), undefined, 4, 5),
      completed(1, get('x'), '2', 6, 7),
      completed(1, get('y'), undefined, 8, 9),
      completed(2, append('y', 'a'), undefined, 10, 11),
      completed(2, append('y', 'b'), undefined, 12, 13),
      completed(1, get('y'), 'ab', 14, 15),
    ];
    expect(verdict(history)).toBe('ok');
  });

  it('accepts reads that order overlapping writes either way', () => {
    const history = [
      completed(0, put('x', '1'), undefined, 0, 10),
      completed(1, put('x', '2'), undefined, 1, 9),
      completed(2, get('x'), '2', 2, 3),
      completed(2, get('x'), '1', 11, 12),
    ];
    expect(verdict(history)).toBe('ok');
  });

  it('accepts either order of concurrent appends', () => {
    for (const observed of ['ab', 'ba']) {
      const history = [
        completed(0, append('x', 'a'), undefined, 0, 10),
        completed(1, append('x', 'b'), undefined, 0, 10),
        completed(2, get('x'), observed, 10, 11),
      ];
      expect(verdict(history)).toBe('ok');
    }
  });

  it('treats an operation returning at t and one called at t as concurrent', () => {
    expect(verdict([completed(0, put('x', '1'), undefined, 0, 5), completed(1, get('x'), undefined, 5, 6)])).toBe('ok');
  });
});

describe('non-linearizable histories', () => {
  it('rejects a stale read after a completed write, and explains it', () => {
    const history = [
      completed(0, put('y', '0'), undefined, 0, 1),
      completed(0, put('x', '1'), undefined, 0, 1),
      completed(1, put('x', '2'), undefined, 2, 3),
      completed(2, get('x'), '1', 4, 5),
    ];
    const check = checkLinearizable(kvModel, history);
    expect(check.result).toBe('illegal');
    if (check.result !== 'illegal') return;
    expect(check.explanation.partition).toBe('key "x"');
    expect(check.explanation.linearizedPrefix).toEqual([history[1], history[2]]);
    expect(check.explanation.stateAfterPrefix).toEqual(new Map([['x', '2']]));
    expect(check.explanation.unplaceable).toBe(history[3]);
    expect(check.report.split('\n')).toEqual([
      'key "x": the history is not linearizable.',
      'Longest linearizable prefix (2 operations), in linearization order:',
      '  1. client 0 put("x", "1") (called at 0, returned at 1)',
      '  2. client 1 put("x", "2") (called at 2, returned at 3)',
      'State after the prefix: {"x":"2"}',
      'Cannot place: client 2 get("x") → "1" (called at 4, returned at 5); it is illegal after every linearizable order of the operations called before it returned.',
    ]);
    expect(verdict(history)).toBe('illegal');
  });

  it('rejects two readers that observe concurrent writes in opposite orders', () => {
    const history = [
      completed(0, put('x', '1'), undefined, 0, 10),
      completed(1, put('x', '2'), undefined, 0, 10),
      completed(2, get('x'), '1', 1, 2),
      completed(2, get('x'), '2', 3, 4),
      completed(3, get('x'), '2', 1, 2),
      completed(3, get('x'), '1', 3, 4),
    ];
    expect(verdict(history)).toBe('illegal');
  });

  it('rejects a read of a value never written', () => {
    expect(verdict([completed(0, put('x', '1'), undefined, 0, 1), completed(1, get('x'), '3', 2, 3)])).toBe('illegal');
    expect(verdict([completed(1, get('x'), '1', 0, 1)])).toBe('illegal');
  });

  it('rejects appends observed out of their real-time order', () => {
    const history = [
      completed(0, append('x', 'a'), undefined, 0, 1),
      completed(1, append('x', 'b'), undefined, 2, 3),
      completed(2, get('x'), 'ba', 4, 5),
    ];
    expect(verdict(history)).toBe('illegal');
  });

  it('names the failing key when other keys are fine', () => {
    const history = [
      completed(0, put('x', '1'), undefined, 0, 1),
      completed(1, get('x'), '1', 2, 3),
      completed(0, put('y', '1'), undefined, 0, 1),
      completed(1, get('y'), undefined, 2, 3),
    ];
    const check = checkLinearizable(kvModel, history);
    expect(check.result === 'illegal' && check.explanation.partition).toBe('key "y"');
  });
});

describe('pending operations', () => {
  it('lets a read observe a pending write or not', () => {
    for (const observed of ['1', undefined]) {
      expect(verdict([pending(0, put('x', '1'), 0), completed(1, get('x'), observed, 1, 2)])).toBe('ok');
    }
  });

  it('does not let a read observe a pending write called after the read returned', () => {
    expect(verdict([pending(0, put('x', '1'), 5), completed(1, get('x'), '1', 1, 2)])).toBe('illegal');
  });

  it('lets a pending write take effect long after its call', () => {
    const history = [
      pending(0, put('x', '1'), 0),
      completed(1, put('x', '2'), undefined, 0, 1),
      completed(2, get('x'), '2', 2, 3),
      completed(2, get('x'), '1', 4, 5),
    ];
    expect(verdict(history)).toBe('ok');
    expect(verdict([...history, completed(2, get('x'), '2', 6, 7)])).toBe('illegal');
  });

  it('does not let a later read un-see a pending write a completed read observed', () => {
    const seenThenUnseen = [pending(0, put('x', '1'), 0), completed(1, get('x'), '1', 1, 2), completed(2, get('x'), undefined, 3, 4)];
    expect(verdict(seenThenUnseen)).toBe('illegal');
    const unseenThenSeen = [pending(0, put('x', '1'), 0), completed(1, get('x'), undefined, 1, 2), completed(2, get('x'), '1', 3, 4)];
    expect(verdict(unseenThenSeen)).toBe('ok');
  });

  it('drops pending reads', () => {
    const history = [pending(0, get('x'), 0), completed(1, put('x', '1'), undefined, 1, 2), pending(2, get('x'), 3)];
    expect(verdict(history)).toBe('ok');
  });

  it('records pending and completed operations with HistoryRecorder', () => {
    const recorder = new HistoryRecorder<KvInput, KvOutput>();
    const write = recorder.invoke(0, put('x', '1'), 0);
    recorder.invoke(1, put('x', '2'), 1);
    recorder.complete(write, undefined, 2);
    expect(recorder.history()).toEqual([completed(0, put('x', '1'), undefined, 0, 2), pending(1, put('x', '2'), 1)]);
    expect(() => recorder.complete(write, undefined, 3)).toThrow('operation 0 has already completed');
  });
});

describe('limits and malformed input', () => {
  /** Ten concurrent writes and a read of a value none wrote: every order must be tried. */
  const expensive = [
    ...Array.from({ length: 10 }, (_, index) => completed(index, put('x', `${index}`), undefined, 0, 100)),
    completed(10, get('x'), 'never written', 200, 201),
  ];

  it("returns 'unknown' when the step budget runs out, and a verdict within a larger one", () => {
    const limited = checkLinearizable(kvModel, expensive, { budgetSteps: 1_000 });
    expect(limited.result).toBe('unknown');
    expect(limited.steps).toBe(1_000);
    expect(limited.result === 'unknown' && limited.report).toBe('key "x": gave up after budgetSteps=1000 steps; raise the budget or shorten the history.');
    expect(checkLinearizable(kvModel, expensive, { budgetSteps: 1_000_000 }).result).toBe('illegal');
  });

  it('rejects malformed histories and budgets, naming the bad value', () => {
    expect(() => checkLinearizable(kvModel, [completed(0, put('x', '1'), undefined, 5, 4)])).toThrow(
      'operation 0 (client 0) returns at 4, before its call at 5',
    );
    expect(() => checkLinearizable(kvModel, [{ ...pending(0, put('x', '1'), 0), returnTime: 3 }])).toThrow('returnTime 3');
    expect(() => checkLinearizable(kvModel, [completed(0, put('x', '1'), 'ok', 0, 1)])).toThrow('writes return nothing');
    expect(() => checkLinearizable(kvModel, [], { budgetSteps: 0 })).toThrow('budgetSteps is 0');
  });
});

// Histories produced by running operations against a real sequential store: operation i takes
// effect at time 10·i, and its client's window [call, return] contains that instant.
type Fate = 'completed' | 'pending-applied' | 'pending-lost';

interface Plan {
  readonly kind: KvInput['kind'];
  readonly key: string;
  readonly callLead: number;
  readonly returnLag: number;
  readonly fate: Fate;
}

interface Executed {
  readonly operation: KvOperation;
  /** The key's value right after the operation took effect; undefined if it did not write. */
  readonly written: string | undefined;
}

const planArbitrary: fc.Arbitrary<Plan> = fc.record({
  kind: fc.constantFrom<KvInput['kind']>('put', 'get', 'append'),
  key: fc.constantFrom('x', 'y'),
  callLead: fc.integer({ min: 0, max: 25 }),
  returnLag: fc.integer({ min: 0, max: 25 }),
  fate: fc.oneof(
    { arbitrary: fc.constant<Fate>('completed'), weight: 6 },
    { arbitrary: fc.constant<Fate>('pending-applied'), weight: 1 },
    { arbitrary: fc.constant<Fate>('pending-lost'), weight: 1 },
  ),
});

/** Every written value is a unique `;`-terminated token, so each value exists at one point only. */
function execute(plans: readonly Plan[]): Executed[] {
  const store = new Map<string, string>();
  const recorder = new HistoryRecorder<KvInput, KvOutput>();
  const written = plans.map((plan, index) => {
    const input: KvInput = plan.kind === 'get' ? get(plan.key) : { kind: plan.kind, key: plan.key, value: `${plan.kind[0]}${index};` };
    const id = recorder.invoke(index, input, 10 * index - plan.callLead);
    if (plan.fate === 'pending-lost') return undefined;
    let output: KvOutput;
    if (input.kind === 'get') output = store.get(input.key);
    else store.set(input.key, input.kind === 'put' ? input.value : (store.get(input.key) ?? '') + input.value);
    if (plan.fate === 'completed') recorder.complete(id, output, 10 * index + plan.returnLag);
    return input.kind === 'get' ? undefined : store.get(input.key);
  });
  return recorder.history().map((operation, index) => ({ operation, written: written[index] }));
}

/**
 * Values a completed read on `key` could never have seen in its window [call, return]: the value
 * of a write called after the read returned, and the value of a completed write overwritten by a
 * completed write that returned before the read was called.
 */
function impossibleValues(executed: readonly Executed[], read: KvOperation): string[] {
  const writes = executed.filter(({ operation, written }) => written !== undefined && operation.input.key === read.input.key);
  const future = writes.filter(({ operation }) => operation.callTime > read.returnTime);
  const stale = writes.filter(({ operation: earlier }) =>
    writes.some(({ operation: later }) => earlier.returnTime < later.callTime && later.returnTime < read.callTime),
  );
  return [...future, ...stale].map(({ written }) => written ?? '').concat('never-written;');
}

describe('histories of a real sequential store', () => {
  it('are linearizable', () => {
    fc.assert(
      fc.property(fc.array(planArbitrary, { minLength: 1, maxLength: 12 }), (plans) => {
        expect(verdict(execute(plans).map(({ operation }) => operation))).toBe('ok');
      }),
    );
  });

  it('are not linearizable once a completed read returns a value never current in its window', () => {
    fc.assert(
      fc.property(fc.array(planArbitrary, { minLength: 2, maxLength: 12 }), fc.nat(), fc.nat(), (plans, readChoice, valueChoice) => {
        const executed = execute(plans);
        const history = executed.map(({ operation }) => operation);
        const reads = history.filter((operation) => operation.input.kind === 'get' && operation.returnTime !== Infinity);
        fc.pre(reads.length > 0);
        const read = reads[readChoice % reads.length];
        if (read === undefined) throw new Error('unreachable: reads is not empty');
        const values = impossibleValues(executed, read);
        const mutated = { ...read, output: values[valueChoice % values.length] };
        expect(verdict(history.map((operation) => (operation === read ? mutated : operation)))).toBe('illegal');
      }),
    );
  });
});
