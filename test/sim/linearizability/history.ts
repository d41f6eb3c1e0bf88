// A client history: what each client asked for, what it was told, and when, as seen from outside
// the system under test. The linearizability checker judges such a history; the simulator records
// one with HistoryRecorder while its clients run.
import assert from 'node:assert/strict';

/**
 * The output of an operation whose outcome the client never learned (it timed out, or it crashed).
 * Such an operation may or may not have taken effect, at any time after its call.
 */
export const unknownOutput: unique symbol = Symbol('unknownOutput');
export type UnknownOutput = typeof unknownOutput;

/**
 * One operation as a client saw it. Times come from one clock (the simulator's virtual clock).
 * An operation is pending when `returnTime` is Infinity; its `output` is then `unknownOutput`.
 */
export interface Operation<Input, Output> {
  readonly clientId: number;
  readonly input: Input;
  readonly output: Output | UnknownOutput;
  readonly callTime: number;
  readonly returnTime: number;
}

export type History<Input, Output> = ReadonlyArray<Operation<Input, Output>>;

export function isPending(operation: Operation<unknown, unknown>): boolean {
  return operation.returnTime === Infinity;
}

/** Throws, naming the operation, unless every operation has sane times and a matching output. */
export function assertWellFormed(history: History<unknown, unknown>): void {
  history.forEach((operation, index) => {
    const where = `operation ${index} (client ${operation.clientId})`;
    assert(Number.isFinite(operation.callTime), `${where} has callTime ${operation.callTime}; a call time must be finite`);
    assert(
      operation.returnTime >= operation.callTime,
      `${where} returns at ${operation.returnTime}, before its call at ${operation.callTime}`,
    );
    assert(
      isPending(operation) === (operation.output === unknownOutput),
      `${where} has returnTime ${operation.returnTime}; use returnTime Infinity exactly when the output is unknownOutput`,
    );
  });
}

/** Records a history as clients call and return. Operations that never return stay pending. */
export class HistoryRecorder<Input, Output> {
  private readonly operations: Array<Operation<Input, Output>> = [];

  /** Records a call and returns the operation's id, to pass to `complete`. */
  invoke(clientId: number, input: Input, callTime: number): number {
    this.operations.push({ clientId, input, output: unknownOutput, callTime, returnTime: Infinity });
    return this.operations.length - 1;
  }

  complete(operationId: number, output: Output, returnTime: number): void {
    const operation = this.operations[operationId];
    assert(operation !== undefined, `operation ${operationId} was never invoked`);
    assert(isPending(operation), `operation ${operationId} has already completed`);
    assert(returnTime >= operation.callTime, `operation ${operationId} completes at ${returnTime}, before its call`);
    this.operations[operationId] = { ...operation, output, returnTime };
  }

  history(): History<Input, Output> {
    return [...this.operations];
  }
}
