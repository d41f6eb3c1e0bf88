import type { handleUnaryCall } from '@grpc/grpc-js';
import type { NodeIdentity, NodeRole } from '../../node/node-identity.js';
import { compatibilityOf, contractApiVersion, supportedApiMajorVersions } from '../api-version.js';
import { toGrpcStatus } from '../error-status.js';
import {
  CompatibilityVerdict,
  type GetVersionRequest,
  type GetVersionResponse,
  PipelineServiceService,
  ProcessRole,
  type VersionInfo,
} from '../generated/tributary/pipeline/v1/pipeline_service.js';
import type { RpcService } from '../server/rpc-server.js';

export interface PipelineServiceOptions {
  identity: NodeIdentity;
  /** Fully qualified names of every Tributary service this process serves. */
  servedServices: () => readonly string[];
  maxMessageBytes: number;
}

const processRoleOf: Record<NodeRole, ProcessRole> = {
  controller: ProcessRole.CONTROLLER,
  broker: ProcessRole.BROKER,
};

/**
 * `tributary.pipeline.v1.PipelineService` as this node serves it. GetVersion is the generic
 * "what are you" call every role answers. ExecutePipeline and StreamPipeline are registered by
 * the pipeline engine (docs/PROTOCOL.md); until a node runs it, grpc-js answers them UNIMPLEMENTED.
 */
export function createPipelineService(options: PipelineServiceOptions): RpcService {
  const getVersion: handleUnaryCall<GetVersionRequest, GetVersionResponse> = (call, callback) => {
    try {
      callback(null, { info: versionInfo(options, call.request) });
    } catch (error) {
      callback(toGrpcStatus(error));
    }
  };
  return { definition: PipelineServiceService, implementation: { getVersion } };
}

function versionInfo(options: PipelineServiceOptions, request: GetVersionRequest): VersionInfo {
  const { identity } = options;
  const compatibility = compatibilityOf(request.header?.apiVersion);
  return {
    nodeId: identity.nodeId,
    roles: identity.roles.map((role) => processRoleOf[role]),
    clusterId: identity.clusterId,
    serverVersion: identity.version,
    apiVersions: options.servedServices().map((service) => ({
      service,
      version: { ...contractApiVersion },
      minSupportedMajor: Math.min(...supportedApiMajorVersions),
    })),
    build: { gitCommit: '', nodejsVersion: process.version, buildTimeMs: 0, platform: `${process.platform}-${process.arch}` },
    startedAtMs: identity.startedAtMs,
    compatibility: CompatibilityVerdict[compatibility.verdict],
    compatibilityMessage: compatibility.message,
    // The pipeline engine fills these in when it runs on the node; no manifest is accepted yet.
    manifestVersions: [],
    nodeTypes: [],
    hostCapabilities: undefined,
    defaultLimits: undefined,
    maxLimits: undefined,
    maxManifestNodes: 0,
    maxMessageBytes: options.maxMessageBytes,
  };
}
