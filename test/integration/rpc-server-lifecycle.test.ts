import { credentials, Metadata, type handleUnaryCall } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { TributaryError } from '../../src/errors/index.js';
import { createMetricsRegistry } from '../../src/observability/index.js';
import { fromGrpcError } from '../../src/rpc/error-status.js';
import {
  type GetVersionRequest,
  type GetVersionResponse,
  PipelineServiceClient,
  PipelineServiceService,
} from '../../src/rpc/generated/tributary/pipeline/v1/pipeline_service.js';
import { type RpcServer, type RpcServerLimits, startRpcServer } from '../../src/rpc/server/rpc-server.js';
import { serverCredentialsFor } from '../../src/rpc/server/server-credentials.js';
import { captureLogger } from '../support/log-capture.js';

const limitsDefault: RpcServerLimits = { maxMessageBytes: 1024 * 1024, maxConcurrentStreams: 100, requestTimeoutMs: 30_000, shutdownGraceMs: 5_000 };
const request: GetVersionRequest = { header: { apiVersion: { major: 1, minor: 0 }, clientId: 't', requestId: 'r', traceId: '' }, clientVersion: '' };

/** A server whose GetVersion answers after `answerAfterMs`, or never when undefined. */
async function serverAnsweringAfter(answerAfterMs: number | undefined, limits: Partial<RpcServerLimits> = {}): Promise<RpcServer> {
  const getVersion: handleUnaryCall<GetVersionRequest, GetVersionResponse> = (_call, callback) => {
    if (answerAfterMs !== undefined) setTimeout(() => callback(null, { info: undefined }), answerAfterMs);
  };
  return startRpcServer({
    address: '127.0.0.1:0',
    services: [{ definition: PipelineServiceService, implementation: { getVersion } }],
    limits: { ...limitsDefault, ...limits },
    logger: captureLogger().logger,
    metrics: createMetricsRegistry(),
    credentials: serverCredentialsFor(undefined),
  });
}

function call(server: RpcServer, deadline?: Date): Promise<GetVersionResponse> {
  const client = new PipelineServiceClient(server.address, credentials.createInsecure());
  return new Promise<GetVersionResponse>((resolve, reject) => {
    client.getVersion(request, new Metadata(), deadline ? { deadline } : {}, (error, response) =>
      error ? reject(fromGrpcError(error)) : resolve(response),
    );
  }).finally(() => client.close());
}

describe('gRPC server lifecycle', () => {
  const servers: RpcServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.shutdown()));
  });

  it('bounds a unary call the client gave no deadline with the server request timeout', async () => {
    const server = await serverAnsweringAfter(undefined, { requestTimeoutMs: 150 });
    servers.push(server);
    const error = await call(server).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TributaryError);
    expect(error).toMatchObject({ code: 'TIMEOUT', message: "/tributary.pipeline.v1.PipelineService/GetVersion did not finish within the server's 150 ms request timeout" });
  });

  it("leaves a client's own deadline to the client", async () => {
    const server = await serverAnsweringAfter(300, { requestTimeoutMs: 100 });
    servers.push(server);
    await expect(call(server, new Date(Date.now() + 5_000))).resolves.toEqual({ info: undefined });
  });

  it('drains an in-flight call before it stops, and accepts no new calls', async () => {
    const server = await serverAnsweringAfter(300);
    const inFlight = call(server, new Date(Date.now() + 5_000));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const shutdown = server.shutdown();
    expect(server.shutdownSignal.aborted).toBe(true);
    await expect(inFlight).resolves.toEqual({ info: undefined });
    await expect(shutdown).resolves.toEqual({ forced: false });
    await expect(call(server, new Date(Date.now() + 1_000))).rejects.toMatchObject({ code: 'NOT_AVAILABLE' });
  });

  it('ends calls that outlive the grace period with a retriable SHUTTING_DOWN', async () => {
    const server = await serverAnsweringAfter(undefined, { shutdownGraceMs: 200 });
    const inFlight = call(server, new Date(Date.now() + 10_000)).catch((caught: unknown) => caught);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await expect(server.shutdown()).resolves.toEqual({ forced: true });
    const error = await inFlight;
    expect(error).toBeInstanceOf(TributaryError);
    expect(error).toMatchObject({ code: 'SHUTTING_DOWN', retriable: true, message: 'the node shut down and ended this call after its 200 ms grace period; retry against another node' });
  });
});
