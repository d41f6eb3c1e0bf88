import { Packr } from 'msgpackr';
import type { KvInput, KvOutput } from './linearizability/kv-model.js';

/** A write as it travels in a log entry: who sent it (so the proposer can match it) and what. */
export interface KvProposal {
  readonly clientId: number;
  readonly operationId: number;
  readonly input: Extract<KvInput, { kind: 'put' | 'append' }>;
}

// Plain maps and arrays only; numbers stay numbers (ids are small integers).
const packr = new Packr({ useRecords: false, mapsAsObjects: true });

export function encodeKvProposal(proposal: KvProposal): Uint8Array {
  return packr.pack(proposal);
}

export function decodeKvProposal(data: Uint8Array): KvProposal {
  const decoded = packr.unpack(data) as KvProposal;
  if (typeof decoded !== 'object' || decoded === null || (decoded.input.kind !== 'put' && decoded.input.kind !== 'append')) {
    throw new Error(`entry data is not a key-value proposal: ${JSON.stringify(decoded)}`);
  }
  return decoded;
}

/**
 * The small key-value store the simulated clients run on top of Raft: string registers with put,
 * get and append, the same semantics as the linearizability checker's model.
 */
export class KvStateMachine {
  private readonly values = new Map<string, string>();

  /** Applies one committed write; writes return nothing (KvOutput undefined). */
  apply(input: KvProposal['input']): KvOutput {
    const value = input.kind === 'put' ? input.value : (this.values.get(input.key) ?? '') + input.value;
    this.values.set(input.key, value);
    return undefined;
  }

  get(key: string): KvOutput {
    return this.values.get(key);
  }

  /** The whole state, for a snapshot; keys sorted so equal states give equal bytes. */
  serialize(): Uint8Array {
    return packr.pack([...this.values].sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0)));
  }

  static restore(data: Uint8Array): KvStateMachine {
    const machine = new KvStateMachine();
    if (data.length === 0) return machine;
    for (const [key, value] of packr.unpack(data) as Array<[string, string]>) machine.values.set(key, value);
    return machine;
  }
}
