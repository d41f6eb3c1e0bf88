// Opens a RocksDB store with the worker write thread in the directory given as argv[2], makes one
// synced write and prints "written", and never closes the store: the parent checks that the
// process still exits by itself, because an idle write thread must not hold the event loop open.
import { openRocksDbKeyValueStore } from '../../src/storage/rocksdb/rocksdb-key-value-store.js';

const directory = process.argv[2];
if (directory === undefined) throw new Error('usage: storage-unclosed-child.ts DIRECTORY');
const store = await openRocksDbKeyValueStore(directory, { writeThread: 'worker' });
await store.write([{ type: 'put', key: Uint8Array.of(1), value: Uint8Array.of(2) }], { sync: true });
process.stdout.write('written\n');
