import { credentials, Metadata } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TributaryError } from '../../src/errors/index.js';
import type { RunningNode } from '../../src/node/start-node.js';
import { checkHealth, defaultClientOptions, getVersion, listServices } from '../../src/rpc/clients/index.js';
import { fromGrpcError } from '../../src/rpc/error-status.js';
import {
  CompatibilityVerdict,
  ExecutePipelineRequest,
  type GetVersionRequest,
  type GetVersionResponse,
  PipelineServiceClient,
  ProcessRole,
} from '../../src/rpc/generated/tributary/pipeline/v1/pipeline_service.js';
import { startTestNode } from '../support/test-node.js';

const options = defaultClientOptions('node-services-test');
const deadline = () => new Date(Date.now() + 5_000);

function header(major: number, requestId = 'test-request') {
  return { apiVersion: { major, minor: 0 }, clientId: 'node-services-test', requestId, traceId: 'trace-1' };
}

function getVersionRaw(client: PipelineServiceClient, request: GetVersionRequest): Promise<GetVersionResponse> {
  return new Promise((resolve, reject) =>
    client.getVersion(request, new Metadata(), { deadline: deadline() }, (error, response) => (error ? reject(error) : resolve(response))),
  );
}

function executeRaw(client: PipelineServiceClient, request: ExecutePipelineRequest): Promise<TributaryError> {
  return new Promise((resolve, reject) =>
    client.executePipeline(request, new Metadata(), { deadline: deadline() }, (error) =>
      error ? resolve(fromGrpcError(error)) : reject(new Error('ExecutePipeline unexpectedly succeeded')),
    ),
  );
}

describe('a node serves health, reflection and GetVersion over real gRPC', () => {
  let node: RunningNode & { logLines: () => Array<Record<string, unknown>> };
  let client: PipelineServiceClient;

  beforeAll(async () => {
    node = await startTestNode();
    client = new PipelineServiceClient(node.grpcAddress, credentials.createInsecure());
  });
  afterAll(async () => {
    client.close();
    await node.stop();
  });

  it('reports SERVING for the server and each service, and SERVICE_UNKNOWN for others', async () => {
    expect(await checkHealth(node.grpcAddress, '', options)).toBe('SERVING');
    expect(await checkHealth(node.grpcAddress, 'tributary.pipeline.v1.PipelineService', options)).toBe('SERVING');
    expect(await checkHealth(node.grpcAddress, 'tributary.client.v1.ProducerService', options)).toBe('SERVING');
    expect(await checkHealth(node.grpcAddress, 'tributary.ingest.v1.ControlPlaneService', options)).toBe('SERVING');
    expect(await checkHealth(node.grpcAddress, 'tributary.broker.v1.PartitionManagementService', options)).toBe('SERVICE_UNKNOWN');
  });

  it('lists exactly the services it serves through reflection', async () => {
    expect(await listServices(node.grpcAddress, options)).toEqual([
      'grpc.health.v1.Health',
      'grpc.reflection.v1.ServerReflection',
      'tributary.broker.v1.BrokerReplicationService',
      'tributary.client.v1.ConsumerService',
      'tributary.client.v1.MetadataService',
      'tributary.client.v1.ProducerService',
      'tributary.controller.v1.AdminService',
      'tributary.controller.v1.ControllerBrokerService',
      'tributary.controller.v1.ControllerRaftService',
      'tributary.controller.v1.GroupCoordinatorService',
      'tributary.ingest.v1.ControlPlaneService',
      'tributary.ingest.v1.DataIngestService',
      'tributary.pipeline.v1.PipelineService',
    ]);
  });

  it('answers GetVersion through the generated client with its identity and contract versions', async () => {
    const { info } = await getVersionRaw(client, { header: header(1), clientVersion: '0.0.1' });
    expect(info?.nodeId).toBe(1);
    expect(info?.roles).toEqual([ProcessRole.CONTROLLER, ProcessRole.BROKER]);
    expect(info?.serverVersion).toMatch(/^\d+\.\d+\.\d+/);
    expect(info?.compatibility).toBe(CompatibilityVerdict.COMPATIBLE);
    expect(info?.apiVersions).toEqual([
      { service: 'tributary.pipeline.v1.PipelineService', version: { major: 1, minor: 0 }, minSupportedMajor: 1 },
      { service: 'tributary.controller.v1.ControllerRaftService', version: { major: 1, minor: 0 }, minSupportedMajor: 1 },
      { service: 'tributary.controller.v1.AdminService', version: { major: 1, minor: 0 }, minSupportedMajor: 1 },
      { service: 'tributary.client.v1.MetadataService', version: { major: 1, minor: 0 }, minSupportedMajor: 1 },
      { service: 'tributary.controller.v1.ControllerBrokerService', version: { major: 1, minor: 0 }, minSupportedMajor: 1 },
      { service: 'tributary.controller.v1.GroupCoordinatorService', version: { major: 1, minor: 0 }, minSupportedMajor: 1 },
      { service: 'tributary.client.v1.ProducerService', version: { major: 1, minor: 0 }, minSupportedMajor: 1 },
      { service: 'tributary.client.v1.ConsumerService', version: { major: 1, minor: 0 }, minSupportedMajor: 1 },
      { service: 'tributary.broker.v1.BrokerReplicationService', version: { major: 1, minor: 0 }, minSupportedMajor: 1 },
      { service: 'tributary.ingest.v1.DataIngestService', version: { major: 1, minor: 0 }, minSupportedMajor: 1 },
      { service: 'tributary.ingest.v1.ControlPlaneService', version: { major: 1, minor: 0 }, minSupportedMajor: 1 },
    ]);
    expect(info?.build?.nodejsVersion).toBe(process.version);
    expect(info?.maxMessageBytes).toBe(16 * 1024 * 1024);
  });

  it('maps GetVersion into the SDK type', async () => {
    const version = await getVersion(node.grpcAddress, options);
    expect(version).toMatchObject({ nodeId: 1, roles: ['controller', 'broker'], compatibility: 'COMPATIBLE' });
  });

  it('tells an incompatible client why, through GetVersion, instead of refusing it', async () => {
    const { info } = await getVersionRaw(client, { header: header(2), clientVersion: '' });
    expect(info?.compatibility).toBe(CompatibilityVerdict.INCOMPATIBLE);
    expect(info?.compatibilityMessage).toBe('client api_version 2.0 has a major version this server does not speak (supported: 1)');
  });

  it('refuses an unsupported major version with VERSION_MISMATCH before any handler runs', async () => {
    const error = await executeRaw(client, ExecutePipelineRequest.fromPartial({ header: header(2) }));
    expect(error.code).toBe('VERSION_MISMATCH');
    expect(error.retriable).toBe(false);
    expect(error.message).toBe('/tributary.pipeline.v1.PipelineService/ExecutePipeline: api_version 2.0 is not supported; this server speaks major version(s) 1');
  });

  it('refuses a request without a header with INVALID_REQUEST', async () => {
    const error = await executeRaw(client, ExecutePipelineRequest.fromPartial({}));
    expect(error.code).toBe('INVALID_REQUEST');
    expect(error.message).toContain('the request has no header.api_version');
  });

  it('answers a method this node does not run with a non-retriable NOT_AVAILABLE', async () => {
    const error = await executeRaw(client, ExecutePipelineRequest.fromPartial({ header: header(1) }));
    expect(error.code).toBe('NOT_AVAILABLE');
    expect(error.retriable).toBe(false);
  });

  it('logs each call with the request id from the header', async () => {
    await getVersionRaw(client, { header: header(1, 'request-id-42'), clientVersion: '' });
    const line = node.logLines().find((entry) => entry.msg === 'rpc finished' && entry.requestId === 'request-id-42');
    expect(line).toMatchObject({ component: 'rpc', service: 'tributary.pipeline.v1.PipelineService', method: 'GetVersion', code: 'OK', traceId: 'trace-1' });
  });

  it('counts calls, outcomes and bytes on /metrics, and is ready on /readyz', async () => {
    const metrics = await (await fetch(`http://${node.metricsAddress}/metrics`)).text();
    expect(metrics).toMatch(/trib_rpc_requests_total\{service="tributary.pipeline.v1.PipelineService",method="GetVersion",code="OK"\} [1-9]/);
    expect(metrics).toMatch(/trib_rpc_requests_total\{service="tributary.pipeline.v1.PipelineService",method="ExecutePipeline",code="FAILED_PRECONDITION"\} [1-9]/);
    expect(metrics).toMatch(/trib_rpc_bytes_received_total\{service="tributary.pipeline.v1.PipelineService",method="GetVersion"\} [1-9]/);
    const ready = await fetch(`http://${node.metricsAddress}/readyz`);
    expect(ready.status).toBe(200);
  });
});

describe('a stopped node', () => {
  it('stops answering and reports itself unavailable to clients', async () => {
    const node = await startTestNode();
    await node.stop();
    await expect(checkHealth(node.grpcAddress, '', { ...options, deadlineMs: 1_000 })).rejects.toMatchObject({ code: 'NOT_AVAILABLE', retriable: true });
    await node.stop();
  });
});
