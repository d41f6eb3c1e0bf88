import { z } from 'zod';
import { corruptRecord } from './checksummed-value.js';
import type { KeyValueStore } from './key-value-store.js';
import { packValue, safeNonNegativeInteger, unpackValue } from './packed-value.js';
import { assertPartitionId } from './partition-id.js';
import { uploadSessionKey, uploadSessionRange } from './storage-keys.js';
import type { StorageWriter } from './storage-writer.js';
import { getStoredRecord, rangeStoredRecords, recordIn } from './stored-record.js';
import type { UploadSessionEntry, UploadSessionIndexStore } from './upload-session-index-store.js';

const entrySchema = z.object({
  deviceId: z.string(),
  sessionId: z.string(),
  partition: z.object({ topic: z.string(), partition: safeNonNegativeInteger }),
  committedOffsetBySource: z.record(z.string(), safeNonNegativeInteger),
  state: z.enum(['open', 'receiving', 'committing', 'complete', 'expired', 'failed', 'terminated']),
});

/** Upload sessions under `20 <device id> <session id>` (storage-keys.ts), checksummed msgpack. */
export class KeyValueUploadSessionIndexStore implements UploadSessionIndexStore {
  constructor(
    private readonly engine: KeyValueStore,
    private readonly writer: StorageWriter,
  ) {}

  async get(deviceId: string, sessionId: string): Promise<UploadSessionEntry | undefined> {
    const record = `upload session "${sessionId}" of device "${deviceId}"`;
    const bytes = await getStoredRecord(this.engine, uploadSessionKey(deviceId, sessionId), record);
    if (bytes === undefined) return undefined;
    const where = recordIn(this.engine, record);
    const entry = unpackValue(bytes, entrySchema, where);
    if (entry.deviceId !== deviceId || entry.sessionId !== sessionId) {
      throw corruptRecord(where, `the stored entry is for session "${entry.sessionId}" of device "${entry.deviceId}"`);
    }
    return entry;
  }

  put(entry: UploadSessionEntry): Promise<void> {
    assertPartitionId(entry.partition);
    const value = entrySchema.parse(entry);
    return this.writer.write([{ type: 'put', key: uploadSessionKey(entry.deviceId, entry.sessionId), value: packValue(value) }]);
  }

  delete(deviceId: string, sessionId: string): Promise<void> {
    return this.writer.write([{ type: 'del', key: uploadSessionKey(deviceId, sessionId) }]);
  }

  async list(deviceId?: string): Promise<UploadSessionEntry[]> {
    const entries: UploadSessionEntry[] = [];
    const records = `the upload sessions of ${deviceId === undefined ? 'every device' : `device "${deviceId}"`}`;
    for await (const [, value] of rangeStoredRecords(this.engine, uploadSessionRange(deviceId), records)) {
      entries.push(unpackValue(value, entrySchema, recordIn(this.engine, `an entry of ${records}`)));
    }
    return entries;
  }
}
