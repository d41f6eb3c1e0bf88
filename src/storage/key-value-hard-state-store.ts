import { z } from 'zod';
import type { HardState } from '../raft/raft-types.js';
import type { HardStateStore } from './hard-state-store.js';
import type { KeyValueStore } from './key-value-store.js';
import { packValue, safeNonNegativeInteger, unpackValue } from './packed-value.js';
import { raftHardStateKey } from './storage-keys.js';
import type { StorageWriter } from './storage-writer.js';
import { getStoredRecord, recordIn } from './stored-record.js';

const hardStateSchema = z.object({ term: safeNonNegativeInteger, vote: safeNonNegativeInteger, commit: safeNonNegativeInteger });
const emptyHardState: HardState = { term: 0, vote: 0, commit: 0 };
const hardStateRecord = 'raft hard state';

/** The hard state as one checksummed msgpack value under key `03` (storage-keys.ts). */
export class KeyValueHardStateStore implements HardStateStore {
  constructor(
    private readonly engine: KeyValueStore,
    private readonly writer: StorageWriter,
  ) {}

  async load(): Promise<HardState> {
    const bytes = await getStoredRecord(this.engine, raftHardStateKey(), hardStateRecord);
    return bytes === undefined ? emptyHardState : unpackValue(bytes, hardStateSchema, recordIn(this.engine, hardStateRecord));
  }

  save(hardState: HardState): Promise<void> {
    const value = hardStateSchema.parse(hardState);
    return this.writer.write([{ type: 'put', key: raftHardStateKey(), value: packValue(value) }]);
  }
}
