import { afterEach, describe, expect, it } from 'vitest';
import { KeyValueHardStateStore } from '../../../src/storage/key-value-hard-state-store.js';
import { KeyValueUploadSessionIndexStore } from '../../../src/storage/key-value-upload-session-index-store.js';
import { raftHardStateKey, uploadSessionKey } from '../../../src/storage/storage-keys.js';
import type { UploadSessionEntry } from '../../../src/storage/upload-session-index-store.js';
import { type EngineHandle, engineKinds, failureOf, flipStoredByte } from '../../support/storage-engines.js';


function session(deviceId: string, sessionId: string, state: UploadSessionEntry['state'] = 'receiving'): UploadSessionEntry {
  return { deviceId, sessionId, partition: { topic: 'lifelog', partition: 2 }, committedOffsetBySource: { audio: 4_096, imu: 0 }, state };
}

describe.each(engineKinds)('small stores on $name', (kind) => {
  let handle: EngineHandle;

  afterEach(async () => {
    await handle.dispose();
  });

  it('HardStateStore starts at zero, saves, and keeps the hard state across a restart', async () => {
    handle = await kind.open();
    const store = new KeyValueHardStateStore(handle.engine, handle.writer);
    expect(await store.load()).toEqual({ term: 0, vote: 0, commit: 0 });
    await store.save({ term: 3, vote: 2, commit: 17 });
    handle = await handle.reopen();
    expect(await new KeyValueHardStateStore(handle.engine, handle.writer).load()).toEqual({ term: 3, vote: 2, commit: 17 });
  });

  it('HardStateStore reports a corrupted value as CORRUPT_RECORD', async () => {
    handle = await kind.open();
    const store = new KeyValueHardStateStore(handle.engine, handle.writer);
    await store.save({ term: 3, vote: 2, commit: 17 });
    await flipStoredByte(handle.engine, raftHardStateKey(), 6);
    expect(await failureOf(() => store.load())).toMatch(/^CORRUPT_RECORD: raft hard state in [^:]+: stored CRC-32C/);
  });

  it('UploadSessionIndexStore finds sessions by device and session id', async () => {
    handle = await kind.open();
    const store = new KeyValueUploadSessionIndexStore(handle.engine, handle.writer);
    // Ids that run together ("a"+"bc" and "ab"+"c") must not collide: ids are length-prefixed.
    await store.put(session('a', 'bc'));
    await store.put(session('ab', 'c'));
    await store.put(session('a', 'd', 'complete'));
    expect(await store.get('a', 'bc')).toEqual(session('a', 'bc'));
    expect(await store.get('a', 'c')).toBeUndefined();
    expect((await store.list('a')).map((entry) => entry.sessionId)).toEqual(['d', 'bc']);
    expect(await store.list()).toHaveLength(3);
    await store.delete('a', 'bc');
    handle = await handle.reopen();
    const reopened = new KeyValueUploadSessionIndexStore(handle.engine, handle.writer);
    expect((await reopened.list()).map((entry) => `${entry.deviceId}/${entry.sessionId}/${entry.state}`)).toEqual(['a/d/complete', 'ab/c/receiving']);
  });

  it('UploadSessionIndexStore reports a corrupted entry as CORRUPT_RECORD', async () => {
    handle = await kind.open();
    const store = new KeyValueUploadSessionIndexStore(handle.engine, handle.writer);
    await store.put(session('device-1', 'session-1'));
    await flipStoredByte(handle.engine, uploadSessionKey('device-1', 'session-1'), 12);
    expect(await failureOf(() => store.get('device-1', 'session-1'))).toMatch(
      /^CORRUPT_RECORD: upload session "session-1" of device "device-1" in [^:]+: stored CRC-32C/,
    );
  });
});
