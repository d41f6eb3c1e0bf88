import { isIPv6 } from 'node:net';
import { z } from 'zod';

/*
 * The node configuration: one YAML file, overridden by TRIB_* environment variables and CLI flags
 * (see load-config.ts). Every leaf carries a `.describe()` text saying what is allowed; ConfigError
 * quotes it, so a user who gets a value wrong reads the rule right beside the bad value.
 */

// Node ids travel as uint32; staying within int32 keeps them exact in every client language.
const nodeIdMax = 2_147_483_647;
const quorumVotersMax = 9; // Raft quorums larger than this only slow down commits.
const tokenFilesMax = 64;
const tokensMax = 1024;

const hostLabel = '[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?';
const hostPattern = new RegExp(`^${hostLabel}(?:\\.${hostLabel})*$`);

/** True when `address` is `host:port` (IPv6 hosts in brackets) and the port is in range. */
function isHostPort(address: string, portMin: number): boolean {
  const match = /^(\[[^\]]*\]|[^:[\]]+):(\d{1,5})$/.exec(address);
  if (match === null) return false;
  const host = match[1] ?? '';
  const port = Number(match[2]);
  const hostValid = host.startsWith('[') ? isIPv6(host.slice(1, -1)) : hostPattern.test(host);
  return hostValid && port >= portMin && port <= 65_535;
}

/** A string schema accepting `host:port` with the port from `portMin`; `allowed` explains it. */
function addressSchema(portMin: number, allowed: string) {
  return z
    .string()
    .refine((address) => isHostPort(address, portMin), allowed)
    .describe(allowed);
}

// Listeners may ask the kernel for a port (0); addresses other nodes dial must name a real one.
const listenAddress = addressSchema(
  0,
  'an address "host:port" with port 0-65535 (0 picks a free port; IPv6 as [::1]:7400)',
);
const dialAddress = addressSchema(1, 'an address "host:port" with port 1-65535 (IPv6 as [::1]:7400)');

function boundedInteger(min: number, max: number, unit: string) {
  return z.int().min(min).max(max).describe(`an integer from ${min} to ${max} (${unit})`);
}

const filePathSchema = z.string().min(1).describe('a non-empty file path');

const roleSchema = z.enum(['controller', 'broker']);

const listenSchema = z
  .strictObject({
    grpc: listenAddress.default('127.0.0.1:7400'),
    metrics: listenAddress.default('127.0.0.1:7480'),
  })
  .prefault({});

const quorumVoterSchema = z.strictObject({
  id: boundedInteger(1, nodeIdMax, 'node id'),
  address: dialAddress,
});

// Defaults are raftHostDefaults (src/actors/raft-host/raft-host-settings.ts); docs/CONTROLLER.md says why.
const raftSchema = z
  .strictObject({
    tickIntervalMs: boundedInteger(1, 10_000, 'milliseconds').default(50),
    electionTimeoutTicks: boundedInteger(2, 1_000, 'ticks').default(10),
    heartbeatTimeoutTicks: boundedInteger(1, 1_000, 'ticks').default(1),
    snapshotThresholdEntries: boundedInteger(1, 10_000_000, 'entries').default(10_000),
    snapshotThresholdBytes: boundedInteger(1, 1024 * 1024 * 1024, 'bytes').default(64 * 1024 * 1024),
    snapshotKeepEntries: boundedInteger(0, 10_000_000, 'entries').default(1_000),
  })
  .prefault({});

const controllerSchema = z
  .strictObject({
    quorum: z
      .array(quorumVoterSchema)
      .max(quorumVotersMax)
      .describe(`a list of at most ${quorumVotersMax} controllers { id, address }`)
      .default([]),
    // etcd's initial-cluster-state: a new quorum bootstraps from `quorum`; a node that lost its
    // data must not, or it could vote twice in a term. It joins and waits for AddController.
    join: z.boolean().describe('true or false').default(false),
    // Kafka's broker.session.timeout.ms. A new controller leader also waits this long before it
    // fences anyone (brokers could not heartbeat while there was none). Bounds: metadataLimits.
    brokerSessionTimeoutMs: boundedInteger(100, 600_000, 'milliseconds').default(9_000),
    raft: raftSchema,
  })
  .prefault({});

// Defaults are brokerLifecycleDefaults (src/actors/broker-lifecycle/broker-lifecycle.ts).
const brokerSchema = z
  .strictObject({
    // The failure domain rack-aware placement spreads replicas over; empty when not configured.
    rack: z
      .string()
      .regex(/^[A-Za-z0-9._:-]{0,64}$/)
      .describe('0 to 64 letters, digits, dots, colons, dashes or underscores')
      .default(''),
    // How long a SIGTERM waits for the controller to move this broker's leaderships away.
    controlledShutdownTimeoutMs: boundedInteger(0, 600_000, 'milliseconds').default(30_000),
    // A follower not caught up with its leader for this long leaves the ISR (Kafka's replica.lag.time.max.ms).
    replicaLagTimeMaxMs: boundedInteger(100, 600_000, 'milliseconds').default(30_000),
    // How often led partitions delete what their topic's retention no longer keeps (Kafka's log.retention.check.interval.ms).
    retentionCheckIntervalMs: boundedInteger(1_000, 86_400_000, 'milliseconds').default(300_000),
  })
  .prefault({});

const limitsSchema = z
  .strictObject({
    maxMessageBytes: boundedInteger(1, 1024 * 1024 * 1024, 'bytes').default(16 * 1024 * 1024),
    maxConcurrentStreams: boundedInteger(1, 100_000, 'streams per connection').default(1000),
    requestTimeoutMs: boundedInteger(1, 600_000, 'milliseconds').default(30_000),
    shutdownGraceMs: boundedInteger(1, 600_000, 'milliseconds').default(10_000),
  })
  .prefault({});

// A tls block turns TLS on, so the server certificate and its key are both required.
const tlsSchema = z.strictObject({
  certFile: filePathSchema.describe('a path to the PEM server certificate, required in tls'),
  keyFile: filePathSchema.describe('a path to the PEM private key of tls.certFile, required in tls'),
  caFile: filePathSchema.describe('a path to the PEM CA bundle that signs client certificates').optional(),
  requireClientCert: z.boolean().describe('true or false').default(false),
});

const sha256Hex = z
  .string()
  .regex(/^[0-9a-f]{64}$/)
  .describe('a SHA-256 hash as 64 lowercase hex characters (printf %s "$TOKEN" | sha256sum)');

const authSchema = z
  .strictObject({
    enabled: z.boolean().describe('true or false').default(false),
    tokenFiles: z
      .array(filePathSchema)
      .max(tokenFilesMax)
      .describe(`a list of at most ${tokenFilesMax} paths to files of SHA-256 token hashes`)
      .default([]),
    // Inline alternative to tokenFiles; hashes are still credentials to guess against, so redacted.
    tokens: z
      .array(sha256Hex)
      .max(tokensMax)
      .describe(`a list of at most ${tokensMax} SHA-256 token hashes`)
      .default([]),
    // The bearer token this node presents to the other controllers (their Raft streams pass the
    // same auth check as every call); the file holds the token itself, one line.
    peerTokenFile: filePathSchema.describe('a path to a file holding the bearer token this node presents to its peers').optional(),
  })
  .prefault({});

const logSchema = z
  .strictObject({
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
    pretty: z.boolean().describe('true or false').default(false),
  })
  .prefault({});

const metricsSchema = z
  .strictObject({
    enabled: z.boolean().describe('true or false').default(true),
  })
  .prefault({});

const baseSchema = z.strictObject({
  nodeId: boundedInteger(1, nodeIdMax, 'node id'),
  // Every node of one cluster names the same id; controllers refuse Raft streams naming another,
  // so a node pointed at the wrong cluster's addresses fails loudly instead of joining it.
  clusterId: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/)
    .describe('1 to 64 letters, digits, dots, dashes or underscores')
    .default('tributary'),
  roles: z
    .array(roleSchema)
    .min(1)
    .max(roleSchema.options.length)
    .describe('a non-empty list of distinct roles from controller, broker')
    .default(['controller', 'broker']),
  listen: listenSchema,
  advertisedAddress: dialAddress.optional(),
  // One default for every node: processes sharing a working directory must set dataDir each.
  dataDir: filePathSchema.describe('a non-empty directory path').default('./.tributary'),
  controller: controllerSchema,
  broker: brokerSchema,
  limits: limitsSchema,
  tls: tlsSchema.optional(),
  auth: authSchema,
  log: logSchema,
  metrics: metricsSchema,
  durability: z.enum(['fsync', 'none']).default('fsync'),
  // Which thread runs RocksDB writes and their fsync (docs/STORAGE.md): `auto` is the JS thread on
  // a controller-only node, whose small latency-bound Raft writes lose more to the hop than the
  // loop gains, and the worker thread on a node with the broker role.
  storage: z
    .strictObject({
      writeThread: z.enum(['auto', 'main', 'worker']).default('auto'),
    })
    .prefault({}),
});

type BaseConfig = z.output<typeof baseSchema>;

/** Rules that span several keys; each names the key to fix and says why in `message`. */
function checkCrossKeyRules(config: BaseConfig, context: z.RefinementCtx): void {
  const report = (path: (string | number)[], input: unknown, message: string): void => {
    context.addIssue({ code: 'custom', path, input, message });
  };
  if (new Set(config.roles).size !== config.roles.length) {
    report(['roles'], config.roles, 'a non-empty list of distinct roles from controller, broker');
  }
  const quorum = config.controller.quorum;
  const quorumIds = quorum.map((voter) => voter.id);
  if (new Set(quorumIds).size !== quorumIds.length) {
    report(['controller', 'quorum'], quorum, 'a list of controllers with distinct ids');
  }
  if (config.roles.includes('controller') && quorum.length > 0 && !quorumIds.includes(config.nodeId)) {
    report(
      ['controller', 'quorum'],
      quorum,
      `an empty list (single node) or a list that includes this node (nodeId ${config.nodeId}), ` +
        'because a controller must be a voter of its own quorum',
    );
  }
  if (!config.roles.includes('controller') && quorum.length === 0) {
    const allowed = 'a non-empty list of the controllers to dial, because this node is not a controller';
    report(['controller', 'quorum'], quorum, allowed);
  }
  if (config.tls !== undefined && config.tls.requireClientCert && config.tls.caFile === undefined) {
    const allowed = 'a path to the PEM CA bundle, required when tls.requireClientCert is true';
    report(['tls', 'caFile'], undefined, allowed);
  }
  const raft = config.controller.raft;
  if (raft.heartbeatTimeoutTicks >= raft.electionTimeoutTicks) {
    const allowed = `fewer ticks than controller.raft.electionTimeoutTicks (${raft.electionTimeoutTicks}), or followers campaign between heartbeats`;
    report(['controller', 'raft', 'heartbeatTimeoutTicks'], raft.heartbeatTimeoutTicks, allowed);
  }
  if (config.auth.enabled && config.auth.tokenFiles.length === 0 && config.auth.tokens.length === 0) {
    const allowed = 'at least one token file (or an auth.tokens entry) when auth.enabled is true';
    report(['auth', 'tokenFiles'], config.auth.tokenFiles, allowed);
  }
  // A broker dials the controllers (its own node's too), a controller its peers: both present auth.peerTokenFile.
  const dialsControllers = config.roles.includes('broker') || config.controller.quorum.some((voter) => voter.id !== config.nodeId);
  if (config.auth.enabled && dialsControllers && config.auth.peerTokenFile === undefined) {
    const allowed = 'a path to the token this node presents to the controllers, required when auth.enabled is true and the node is a broker or the quorum has other controllers';
    report(['auth', 'peerTokenFile'], undefined, allowed);
  }
}

export const nodeConfigSchema = baseSchema.superRefine(checkCrossKeyRules);

export type NodeConfig = z.output<typeof nodeConfigSchema>;

/**
 * Dotted keys whose values are secrets: redactConfig hides them and ConfigError never prints them.
 * Paths to key and token files are not secret (the files are), so they are not listed.
 */
export const secretConfigKeys: ReadonlySet<string> = new Set(['auth.tokens']);

/** What the schema says about one key: its `.describe()` text and, for mappings, its keys. */
export interface ConfigKeyInfo {
  description: string | undefined;
  knownKeys: string[] | undefined;
}

/** Describes the key at `path` (array items by index), or returns undefined if there is none. */
export function configKeyInfo(path: readonly PropertyKey[]): ConfigKeyInfo | undefined {
  let entry = unwrapSchema(nodeConfigSchema);
  for (const segment of path) {
    const child = childSchema(entry.schema, segment);
    if (child === undefined) return undefined;
    entry = unwrapSchema(child);
  }
  const knownKeys = entry.schema instanceof z.ZodObject ? Object.keys(entry.schema.shape) : undefined;
  return { description: entry.description, knownKeys };
}

/** Looks through defaults and optionals, keeping the first description found on the way. */
function unwrapSchema(schema: z.core.$ZodType): { schema: z.core.$ZodType; description: string | undefined } {
  let current = schema;
  let description = z.globalRegistry.get(current)?.description;
  while (isWrapper(current)) {
    current = current.unwrap();
    description ??= z.globalRegistry.get(current)?.description;
  }
  return { schema: current, description };
}

function isWrapper(schema: z.core.$ZodType): schema is z.ZodDefault | z.ZodPrefault | z.ZodOptional {
  return schema instanceof z.ZodDefault || schema instanceof z.ZodPrefault || schema instanceof z.ZodOptional;
}

function childSchema(schema: z.core.$ZodType, segment: PropertyKey): z.core.$ZodType | undefined {
  if (schema instanceof z.ZodObject && typeof segment === 'string' && Object.hasOwn(schema.shape, segment)) {
    const shape: Record<string, z.core.$ZodType> = schema.shape;
    return shape[segment];
  }
  if (schema instanceof z.ZodArray && typeof segment === 'number') return schema.element;
  return undefined;
}
