import { connect } from 'node:http2';
import { type ChannelOptions, type ClientReadableStream, credentials, makeGenericClientConstructor, Server, ServerCredentials, type ServerWritableStream } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { raiseServerWindows, transportChannelOptions, transportConnectionWindowBytes, transportStreamWindowBytes } from '../../src/rpc/transport-windows.js';

/** Binds a bare grpc-js server on an ephemeral loopback port, raising its windows as Tributary's servers do. */
async function boundServer(): Promise<{ server: Server; port: number }> {
  const server = new Server();
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => {
      if (error) return reject(error);
      raiseServerWindows(server);
      resolve(bound);
    });
  });
  return { server, port };
}

describe('HTTP/2 flow-control windows', () => {
  it('a Tributary server offers its stream window in SETTINGS and opens its connection window at once', async () => {
    const { server, port } = await boundServer();
    const session = connect(`http://127.0.0.1:${port}`);
    try {
      const settings = await new Promise<{ initialWindowSize?: number }>((resolve) => session.once('remoteSettings', resolve));
      expect(settings.initialWindowSize).toBe(transportStreamWindowBytes);
      // The WINDOW_UPDATE for the connection follows the server's SETTINGS: wait until it is here.
      const deadline = Date.now() + 5_000;
      while ((session.state.remoteWindowSize ?? 0) < transportConnectionWindowBytes && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(session.state.remoteWindowSize).toBe(transportConnectionWindowBytes);
    } finally {
      await new Promise<void>((resolve) => session.close(resolve));
      server.forceShutdown();
    }
  });

  it('refuses a server it cannot reach into rather than leaving 64 KiB windows', () => {
    const unbound = new Server();
    expect(() => raiseServerWindows(unbound)).toThrow('raiseServerWindows: this @grpc/grpc-js Server has no http2Servers map to reach');
    unbound.forceShutdown();
  });
});

describe('message size on client channels', () => {
  /** A one-method server streaming `bytes` raw, and a client for it with `options`. */
  async function sizeServer(bytes: number): Promise<{ server: Server; address: string }> {
    const server = new Server();
    server.addService(rawStreamService, {
      stream: (call: ServerWritableStream<Buffer, Buffer>) => {
        call.write(Buffer.alloc(bytes, 7));
        call.end();
      },
    });
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))));
    return { server, address: `127.0.0.1:${port}` };
  }

  const rawStreamService = {
    stream: {
      path: '/test.RawStream/Stream', requestStream: false, responseStream: true,
      requestSerialize: (value: Buffer) => value, requestDeserialize: (value: Buffer) => value,
      responseSerialize: (value: Buffer) => value, responseDeserialize: (value: Buffer) => value,
    },
  };

  function receive(address: string, options: ChannelOptions): Promise<number> {
    const Client = makeGenericClientConstructor(rawStreamService, 'RawStream');
    const client = new Client(address, credentials.createInsecure(), options);
    return new Promise<number>((resolve, reject) => {
      let received = 0;
      const call = (client as unknown as { stream(request: Buffer): ClientReadableStream<Buffer> }).stream(Buffer.alloc(0));
      call.on('data', (message: Buffer) => {
        received += message.byteLength;
      });
      call.on('end', () => resolve(received));
      call.on('error', reject);
    }).finally(() => client.close());
  }

  it('takes a 6 MiB message (a fetch answer larger than grpc-js\'s 4 MiB default), which a default channel refuses', async () => {
    const { server, address } = await sizeServer(6 * 1024 * 1024);
    try {
      expect(await receive(address, transportChannelOptions)).toBe(6 * 1024 * 1024);
      await expect(receive(address, {})).rejects.toThrow('Received message larger than max');
    } finally {
      server.forceShutdown();
    }
  });
});
