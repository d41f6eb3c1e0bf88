import { connect } from 'node:http2';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { raiseServerWindows, transportConnectionWindowBytes, transportStreamWindowBytes } from '../../src/rpc/transport-windows.js';

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
