// The produce benchmark's transport ceiling server (bench/peers/transport-ceiling.ts): a plain
// grpc-js server, no interceptors and no protobuf, with one client-streaming method whose messages
// are raw bytes it counts and drops. When the client ends the stream it answers with the byte
// count. It has a Tributary node's HTTP/2 flow-control windows (src/rpc/transport-windows.ts).
// Prints its port on stdout, then serves until killed.
import { Server, ServerCredentials, type ServerReadableStream, type sendUnaryData } from '@grpc/grpc-js';
import { raiseServerWindows } from '../../src/rpc/transport-windows.js';
import { byteStreamServiceDefinition } from './byte-stream-service.js';

function push(call: ServerReadableStream<Buffer, Buffer>, callback: sendUnaryData<Buffer>): void {
  let receivedBytes = 0;
  call.on('data', (message: Buffer) => (receivedBytes += message.length));
  call.on('end', () => callback(null, Buffer.from(String(receivedBytes))));
}

const server = new Server({ 'grpc.max_receive_message_length': 16 * 1024 * 1024 });
server.addService(byteStreamServiceDefinition, { push });
server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, port) => {
  if (error !== null) throw error;
  // The same HTTP/2 windows as a Tributary node's server, so the ceiling is the transport as Tributary uses it.
  raiseServerWindows(server);
  console.log(port);
});
