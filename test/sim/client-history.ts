import { unknownOutput, type History, type Operation } from './linearizability/history.js';
import type { KvInput, KvOutput } from './linearizability/kv-model.js';

/**
 * The clients' history as the linearizability checker needs it. Unlike a plain recorder, an
 * operation known NOT to have taken effect (its entry was overwritten, or it was never accepted) is
 * discarded: it constrains nothing. One whose outcome is unknown stays pending (returnTime Infinity).
 */
export class ClientHistory {
  private readonly operations = new Map<number, Operation<KvInput, KvOutput>>();
  private operationIdNext = 0;
  private unknownCount = 0;

  invoke(clientId: number, input: KvInput, callTimeMs: number): number {
    const operationId = this.operationIdNext++;
    this.operations.set(operationId, { clientId, input, output: unknownOutput, callTime: callTimeMs, returnTime: Infinity });
    return operationId;
  }

  complete(operationId: number, output: KvOutput, returnTimeMs: number): void {
    const operation = this.pending(operationId);
    this.operations.set(operationId, { ...operation, output, returnTime: returnTimeMs });
  }

  /** The operation certainly did not take effect. */
  discard(operationId: number): void {
    this.pending(operationId);
    this.operations.delete(operationId);
  }

  /** The operation may or may not take effect; it stays pending for ever. */
  markUnknown(operationId: number): void {
    this.pending(operationId);
    this.unknownCount++;
  }

  get unknownOperations(): number {
    return this.unknownCount;
  }

  history(): History<KvInput, KvOutput> {
    return [...this.operations.values()];
  }

  private pending(operationId: number): Operation<KvInput, KvOutput> {
    const operation = this.operations.get(operationId);
    if (operation === undefined || operation.returnTime !== Infinity) {
      throw new Error(`operation ${operationId} is not pending`);
    }
    return operation;
  }
}
