// The produce benchmark's transport ceiling server (bench/peers/transport-ceiling.ts): a plain
// grpc-js server, no interceptors and no protobuf, with one client-streaming method whose messages
// are raw bytes it counts and drops. When the client ends the stream it answers with the byte
// count. It has a Tributary node's HTTP/2 flow-control windows (src/rpc/transport-windows.ts)
// unless started with `--windows default` (HTTP/2's 64 KiB); `--busy-ms N` keeps its event loop
// busy half the time in N ms slices, as a node's is (bench/flow-control-windows.ts).
// Prints its port on stdout, then serves until killed.
import { parseArgs } from 'node:util';
import { Server, ServerCredentials, type ServerReadableStream, type sendUnaryData } from '@grpc/grpc-js';
import { raiseServerWindows } from '../../src/rpc/transport-windows.js';
import { byteStreamServiceDefinition } from './byte-stream-service.js';

function push(call: ServerReadableStream<Buffer, Buffer>, callback: sendUnaryData<Buffer>): void {
  let receivedBytes = 0;
  call.on('data', (message: Buffer) => (receivedBytes += message.length));
  call.on('end', () => callback(null, Buffer.from(String(receivedBytes))));
}

const { values } = parseArgs({ options: { windows: { type: 'string', default: 'tributary' }, 'busy-ms': { type: 'string', default: '0' } } });
const busyMs = Number(values['busy-ms']);
if (!['tributary', 'default'].includes(values.windows) || !Number.isSafeInteger(busyMs) || busyMs < 0 || busyMs > 1_000) {
  throw new Error(`noop-stream-server: --windows takes tributary or default and --busy-ms 0 to 1000, got "${values.windows}" and "${values['busy-ms']}"`);
}
if (busyMs > 0) {
  setInterval(() => {
    const startMs = performance.now();
    while (performance.now() - startMs < busyMs);
  }, 2 * busyMs);
}

const server = new Server({ 'grpc.max_receive_message_length': 16 * 1024 * 1024 });
server.addService(byteStreamServiceDefinition, { push });
server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, port) => {
  if (error !== null) throw error;
  // The same HTTP/2 windows as a Tributary node's server, so the ceiling is the transport as Tributary uses it.
  if (values.windows === 'tributary') raiseServerWindows(server);
  console.log(port);
});
