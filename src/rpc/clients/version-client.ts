import type { NodeRole } from '../../node/node-identity.js';
import { packageVersion } from '../../node/package-version.js';
import {
  CompatibilityVerdict,
  type GetVersionResponse,
  PipelineServiceClient,
  ProcessRole,
  type VersionInfo,
} from '../generated/tributary/pipeline/v1/pipeline_service.js';
import { callUnary } from './call-unary.js';
import { callMetadata, channelCredentialsFor, type ClientOptions } from './client-options.js';
import { newRequestHeader } from './request-header.js';

/** A node's answer to GetVersion, in the SDK's own terms. */
export interface NodeVersion {
  nodeId: number;
  roles: NodeRole[];
  clusterId: string;
  serverVersion: string;
  apiVersions: Array<{ service: string; version: string }>;
  nodejsVersion: string;
  platform: string;
  startedAtMs: number;
  compatibility: string;
  compatibilityMessage: string;
  maxMessageBytes: number;
}

const roleOf: Partial<Record<ProcessRole, NodeRole>> = { [ProcessRole.CONTROLLER]: 'controller', [ProcessRole.BROKER]: 'broker' };

/** Asks one node what it is: id, roles, software and contract versions, compatibility. */
export async function getVersion(address: string, options: ClientOptions): Promise<NodeVersion> {
  const client = new PipelineServiceClient(address, channelCredentialsFor(options.tls));
  try {
    const request = { header: newRequestHeader(options.clientId), clientVersion: packageVersion };
    const response = await callUnary<GetVersionResponse>(options.deadlineMs, (callOptions, callback) =>
      client.getVersion(request, callMetadata(options), callOptions, callback),
    );
    if (response.info === undefined) throw new Error(`GetVersion from ${address} carried no info`);
    return toNodeVersion(response.info);
  } finally {
    client.close();
  }
}

function toNodeVersion(info: VersionInfo): NodeVersion {
  return {
    nodeId: info.nodeId,
    roles: info.roles.flatMap((role) => roleOf[role] ?? []),
    clusterId: info.clusterId,
    serverVersion: info.serverVersion,
    apiVersions: info.apiVersions.map((entry) => ({
      service: entry.service,
      version: `${entry.version?.major ?? 0}.${entry.version?.minor ?? 0}`,
    })),
    nodejsVersion: info.build?.nodejsVersion ?? '',
    platform: info.build?.platform ?? '',
    startedAtMs: info.startedAtMs,
    compatibility: CompatibilityVerdict[info.compatibility] ?? String(info.compatibility),
    compatibilityMessage: info.compatibilityMessage,
    maxMessageBytes: info.maxMessageBytes,
  };
}
