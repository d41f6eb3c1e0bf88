import type { Http2SecureServer, Http2Server, ServerHttp2Session } from 'node:http2';
import type { ChannelOptions, Server } from '@grpc/grpc-js';

/*
 * HTTP/2 flow-control windows of every Tributary connection. The protocol's default is 64 KiB per
 * stream and per connection, which caps a stream at 64 KiB per round trip of WINDOW_UPDATE, and on
 * a busy node a round trip waits for its event loop. Measured with a plain grpc-js client-streaming
 * call of 1 MiB messages (docs/BENCHMARKS.md, "flow-control windows"): 202 MiB/s with the default
 * windows to an idle server and 89 MiB/s to one whose loop is busy half the time in 3 ms slices;
 * with 1 – 16 MiB windows 190 – 300 MiB/s either way. A Tributary node is always that busy server:
 * it fsyncs, checksums and answers followers while a producer's batch streams in.
 */

/**
 * A peer may send this many bytes on one stream before it waits for us to read them: the bound on
 * what an unread stream buffers here, and one fetch answer's worth (ReplicaFetcher's 1 MiB per
 * partition, a Subscribe credit window's 4 MiB default).
 */
export const transportStreamWindowBytes = 4 * 1024 * 1024;
/** What all the streams of one connection may have unread together (a server's producers, followers and subscribers share one). */
export const transportConnectionWindowBytes = 16 * 1024 * 1024;

/**
 * The largest message a client channel takes. grpc-js's default is 4 MiB, less than one fetch
 * answer may be (a follower's fetch asks for up to 8 MiB: replicaFetchSessionDefaults), so a
 * follower that fell more than 4 MiB behind could never catch up. This bounds what one message
 * can make a client hold; servers bound what they send by their own limits.maxMessageBytes.
 */
export const transportReceiveMessageBytesMax = 64 * 1024 * 1024;

/** Client channels: grpc-js sets the stream and the connection window both to the window option. */
export const transportChannelOptions: ChannelOptions = {
  'grpc-node.flow_control_window': transportStreamWindowBytes,
  'grpc.max_receive_message_length': transportReceiveMessageBytesMax,
};

type GrpcHttp2Server = Http2Server | Http2SecureServer;

/**
 * Raises the receive windows of a bound grpc-js server: new connections get the stream window in
 * their SETTINGS and the connection window at once. grpc-js has no server option for this, so
 * this reaches its HTTP/2 servers through the `http2Servers` field of @grpc/grpc-js 1.14; it
 * throws rather than silently keeping 64 KiB windows if a grpc-js upgrade moved them.
 * Call it right after bind, before the event loop can accept a connection.
 */
export function raiseServerWindows(server: Server): void {
  const http2Servers = (server as unknown as { http2Servers?: Map<GrpcHttp2Server, unknown> }).http2Servers;
  if (!(http2Servers instanceof Map) || http2Servers.size === 0) {
    throw new Error('raiseServerWindows: this @grpc/grpc-js Server has no http2Servers map to reach; check the grpc-js version (1.14 keeps one per bound port)');
  }
  for (const http2Server of http2Servers.keys()) {
    http2Server.updateSettings({ initialWindowSize: transportStreamWindowBytes });
    http2Server.on('session', (session: ServerHttp2Session) => session.setLocalWindowSize(transportConnectionWindowBytes));
  }
}
