import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, redactConfig, type LoadConfigOptions } from '../../../src/config/index.js';

const tokenHash = 'a'.repeat(64);
const otherTokenHash = 'b'.repeat(64);

let directory: string;

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'tributary-config-'));
});

afterEach(() => {
  rmSync(directory, { recursive: true, force: true });
});

/** Writes `text` to a file in the test's temporary directory and returns its path. */
function writeFile(name: string, text: string): string {
  const filePath = join(directory, name);
  writeFileSync(filePath, text);
  return filePath;
}

/** Loads with an empty environment unless the test gives one, so the runner's env never leaks in. */
function load(options: LoadConfigOptions): ReturnType<typeof loadConfig> {
  return loadConfig({ env: {}, ...options });
}

/** The ConfigError that loading throws; fails the test if loading succeeds. */
function loadError(options: LoadConfigOptions): ConfigError {
  try {
    load(options);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected loadConfig to throw a ConfigError');
}

const raftDefaults = { tickIntervalMs: 50, electionTimeoutTicks: 10, heartbeatTimeoutTicks: 1, snapshotThresholdEntries: 10_000, snapshotThresholdBytes: 64 * 1024 * 1024, snapshotKeepEntries: 1_000 };

const defaults = {
  clusterId: 'tributary',
  roles: ['controller', 'broker'],
  listen: { grpc: '127.0.0.1:7400', metrics: '127.0.0.1:7480' },
  dataDir: './.tributary',
  controller: { quorum: [], join: false, brokerSessionTimeoutMs: 9_000, raft: raftDefaults },
  broker: { rack: '', controlledShutdownTimeoutMs: 30_000, replicaLagTimeMaxMs: 30_000, retentionCheckIntervalMs: 300_000 },
  limits: {
    maxMessageBytes: 16 * 1024 * 1024,
    maxConcurrentStreams: 1000,
    requestTimeoutMs: 30_000,
    shutdownGraceMs: 10_000,
  },
  auth: { enabled: false, tokenFiles: [], tokens: [] },
  log: { level: 'info', pretty: false },
  metrics: { enabled: true },
  durability: 'fsync',
  storage: { writeThread: 'auto' },
};

describe('loadConfig from a file', () => {
  it('gives a minimal file every default', () => {
    const file = writeFile('node.yaml', 'nodeId: 1\n');
    expect(load({ file })).toEqual({ nodeId: 1, ...defaults });
  });

  it('loads a full file and fills in the keys it leaves out', () => {
    const file = writeFile(
      'node.yaml',
      [
        'nodeId: 2',
        'roles: [controller]',
        'listen: { grpc: "0.0.0.0:7402" }',
        'advertisedAddress: "node-2.tributary:7402"',
        'dataDir: /var/lib/tributary',
        'controller:',
        '  quorum:',
        '    - { id: 1, address: "node-1.tributary:7401" }',
        '    - { id: 2, address: "node-2.tributary:7402" }',
        '    - { id: 3, address: "[::1]:7403" }',
        'limits: { requestTimeoutMs: 5000 }',
        'tls: { certFile: /etc/trib/cert.pem, keyFile: /etc/trib/key.pem }',
        'auth: { enabled: true, tokenFiles: [/etc/trib/tokens], peerTokenFile: /etc/trib/peer-token }',
        'log: { level: debug, pretty: true }',
        'metrics: { enabled: false }',
        'durability: none',
      ].join('\n'),
    );
    expect(load({ file })).toEqual({
      nodeId: 2,
      clusterId: 'tributary',
      roles: ['controller'],
      listen: { grpc: '0.0.0.0:7402', metrics: '127.0.0.1:7480' },
      advertisedAddress: 'node-2.tributary:7402',
      dataDir: '/var/lib/tributary',
      controller: {
        quorum: [
          { id: 1, address: 'node-1.tributary:7401' },
          { id: 2, address: 'node-2.tributary:7402' },
          { id: 3, address: '[::1]:7403' },
        ],
        join: false,
        brokerSessionTimeoutMs: 9_000,
        raft: raftDefaults,
      },
      broker: defaults.broker,
      limits: { ...defaults.limits, requestTimeoutMs: 5000 },
      tls: { certFile: '/etc/trib/cert.pem', keyFile: '/etc/trib/key.pem', requireClientCert: false },
      auth: { enabled: true, tokenFiles: ['/etc/trib/tokens'], tokens: [], peerTokenFile: '/etc/trib/peer-token' },
      log: { level: 'debug', pretty: true },
      metrics: { enabled: false },
      durability: 'none',
      storage: { writeThread: 'auto' },
    });
  });

  it('names the path when the file is missing', () => {
    const file = join(directory, 'missing.yaml');
    const error = loadError({ file });
    expect(error.message).toBe(`config file "${file}" could not be read: ENOENT: no such file or directory, open '${file}'`);
    expect(error.key).toBe('<file>');
    expect(error.value).toBe(file);
  });

  it('names the file and line of a YAML syntax error', () => {
    const file = writeFile('node.yaml', 'nodeId: 1\nlog:\n  level: info\n pretty: true\n');
    expect(loadError({ file }).message).toBe(
      `config file "${file}" is not valid YAML: line 4, column 1: All mapping items must start at the same column`,
    );
  });

  it('rejects a file that is not a mapping', () => {
    const file = writeFile('node.yaml', '- nodeId: 1\n');
    expect(loadError({ file }).message).toBe(
      `config file "${file}" holds [{"nodeId":1}] at the top level, not a mapping of config keys`,
    );
  });
});

describe('loadConfig validation', () => {
  it('rejects an unknown key and lists the keys allowed beside it', () => {
    const file = writeFile('node.yaml', 'nodeId: 1\nlisten:\n  grcp: 127.0.0.1:7400\n');
    const error = loadError({ file });
    expect(error.message).toBe(
      'config key "listen.grcp" is not a known key; allowed keys at "listen": grpc, metrics',
    );
    expect(error).toMatchObject({ key: 'listen.grcp', value: '127.0.0.1:7400', allowed: 'grpc, metrics' });
  });

  it('rejects an unknown top-level key', () => {
    const file = writeFile('node.yaml', 'nodeId: 1\nnode_id: 1\n');
    expect(loadError({ file }).message).toBe(
      'config key "node_id" is not a known key; allowed top-level keys: nodeId, clusterId, roles, listen, ' +
        'advertisedAddress, dataDir, controller, broker, limits, tls, auth, log, metrics, durability, storage',
    );
  });

  it('names the key, the value and what is allowed for a wrong type', () => {
    const error = loadError({ file: writeFile('node.yaml', 'nodeId: "one"\n') });
    expect(error.message).toBe(
      'config key "nodeId" has value "one"; allowed: an integer from 1 to 2147483647 (node id)',
    );
    expect(error).toMatchObject({ key: 'nodeId', value: 'one' });
    expect(error.allowed).toBe('an integer from 1 to 2147483647 (node id)');
  });

  it('says a required key is missing', () => {
    expect(loadError({ file: writeFile('node.yaml', 'log: { level: info }\n') }).message).toBe(
      'config key "nodeId" is missing; allowed: an integer from 1 to 2147483647 (node id)',
    );
  });

  it('lists the options of an enum', () => {
    const file = writeFile('node.yaml', 'nodeId: 1\nlog: { level: loud }\n');
    expect(loadError({ file }).message).toBe(
      'config key "log.level" has value "loud"; allowed: one of trace, debug, info, warn, error, fatal, silent',
    );
  });

  it('rejects an address without a port', () => {
    const file = writeFile('node.yaml', 'nodeId: 1\nlisten: { grpc: "localhost" }\n');
    expect(loadError({ file }).message).toBe(
      'config key "listen.grpc" has value "localhost"; ' +
        'allowed: an address "host:port" with port 0-65535 (0 picks a free port; IPv6 as [::1]:7400)',
    );
  });

  it('rejects a port out of range and accepts port 0 only for listeners', () => {
    const listen = 'listen: { grpc: "127.0.0.1:0", metrics: "127.0.0.1:65536" }';
    const file = writeFile('node.yaml', `nodeId: 1\n${listen}\n`);
    expect(loadError({ file }).message).toBe(
      'config key "listen.metrics" has value "127.0.0.1:65536"; ' +
        'allowed: an address "host:port" with port 0-65535 (0 picks a free port; IPv6 as [::1]:7400)',
    );
    const advertised = writeFile('advertised.yaml', 'nodeId: 1\nadvertisedAddress: "node-1:0"\n');
    expect(loadError({ file: advertised }).message).toBe(
      'config key "advertisedAddress" has value "node-1:0"; allowed: an address "host:port" with port 1-65535 (IPv6 as [::1]:7400)',
    );
  });

  it('reports every issue, one per line, the first one first', () => {
    const file = writeFile('node.yaml', 'nodeId: 0\nlimits: { requestTimeoutMs: -5 }\ndurability: always\n');
    const error = loadError({ file });
    expect(error.message.split('\n')).toEqual([
      'config key "nodeId" has value 0; allowed: an integer from 1 to 2147483647 (node id)',
      'config key "limits.requestTimeoutMs" has value -5; allowed: an integer from 1 to 600000 (milliseconds)',
      'config key "durability" has value "always"; allowed: one of fsync, none',
    ]);
    expect(error.key).toBe('nodeId');
    expect(error.issues).toHaveLength(3);
  });

  it('requires a controller to be in its own quorum', () => {
    const quorum = 'quorum: [{ id: 1, address: "node-1:7401" }]';
    const file = writeFile('node.yaml', `nodeId: 4\ncontroller:\n  ${quorum}\n`);
    expect(loadError({ file }).message).toBe(
      'config key "controller.quorum" has value [{"id":1,"address":"node-1:7401"}]; allowed: an empty list (single node) ' +
        'or a list that includes this node (nodeId 4), because a controller must be a voter of its own quorum',
    );
  });

  it('requires heartbeats more often than election timeouts', () => {
    const file = writeFile('node.yaml', 'nodeId: 1\ncontroller:\n  raft: { electionTimeoutTicks: 4, heartbeatTimeoutTicks: 4 }\n');
    expect(loadError({ file }).message).toBe(
      'config key "controller.raft.heartbeatTimeoutTicks" has value 4; allowed: fewer ticks than ' +
        'controller.raft.electionTimeoutTicks (4), or followers campaign between heartbeats',
    );
  });

  it('requires a peer token for a controller with peers when auth is on', () => {
    const quorum = 'quorum: [{ id: 1, address: "node-1:7401" }, { id: 2, address: "node-2:7401" }]';
    const tokens = `tokens: ["${'a'.repeat(64)}"]`;
    const file = writeFile('node.yaml', `nodeId: 1\nauth: { enabled: true, ${tokens} }\ncontroller:\n  ${quorum}\n`);
    expect(loadError({ file }).message).toBe(
      'config key "auth.peerTokenFile" is missing; allowed: a path to the token this node presents to the controllers, ' +
        'required when auth.enabled is true and the node is a broker or the quorum has other controllers',
    );
  });

  it('requires a peer token for a broker when auth is on, since it dials the controllers (its own node\'s too)', () => {
    const tokens = `tokens: ["${'a'.repeat(64)}"]`;
    const file = writeFile('node.yaml', `nodeId: 1\nauth: { enabled: true, ${tokens} }\n`);
    expect(loadError({ file }).message).toMatch(/^config key "auth.peerTokenFile" is missing; .*the node is a broker/);
    const controllerOnly = writeFile('controller.yaml', `nodeId: 1\nroles: [controller]\nauth: { enabled: true, ${tokens} }\n`);
    expect(load({ file: controllerOnly }).auth.enabled).toBe(true);
  });

  it('rejects duplicate quorum ids', () => {
    const quorum = 'quorum: [{ id: 1, address: "node-1:7401" }, { id: 1, address: "node-2:7401" }]';
    const file = writeFile('node.yaml', `nodeId: 1\ncontroller:\n  ${quorum}\n`);
    expect(loadError({ file }).message).toBe(
      'config key "controller.quorum" has value [{"id":1,"address":"node-1:7401"},{"id":1,"address":"node-2:7401"}]; ' +
        'allowed: a list of controllers with distinct ids',
    );
  });

  it('requires a broker-only node to know its controllers', () => {
    const file = writeFile('node.yaml', 'nodeId: 5\nroles: [broker]\n');
    expect(loadError({ file }).message).toBe(
      'config key "controller.quorum" has value []; ' +
        'allowed: a non-empty list of the controllers to dial, because this node is not a controller',
    );
  });

  it('requires the TLS key file with the certificate file', () => {
    const file = writeFile('node.yaml', 'nodeId: 1\ntls: { certFile: /etc/trib/cert.pem }\n');
    expect(loadError({ file }).message).toBe(
      'config key "tls.keyFile" is missing; allowed: a path to the PEM private key of tls.certFile, required in tls',
    );
  });

  it('requires a token source when auth is enabled', () => {
    const file = writeFile('node.yaml', 'nodeId: 1\nroles: [controller]\nauth: { enabled: true }\n');
    expect(loadError({ file }).message).toBe(
      'config key "auth.tokenFiles" has value []; allowed: at least one token file (or an auth.tokens entry) when auth.enabled is true',
    );
  });

  it('never prints a secret value it rejects', () => {
    const file = writeFile('node.yaml', 'nodeId: 1\nauth: { tokens: [hunter2] }\n');
    const error = loadError({ file });
    expect(error.message).toBe(
      'config key "auth.tokens[0]" has value "[redacted]"; ' +
        'allowed: a SHA-256 hash as 64 lowercase hex characters (printf %s "$TOKEN" | sha256sum)',
    );
    expect(error.value).toBe('[redacted]');
  });
});

describe('loadConfig environment overrides', () => {
  it('overrides numbers, nested keys and lists, parsing values as YAML', () => {
    const file = writeFile('node.yaml', 'nodeId: 1\nlisten: { metrics: "127.0.0.1:9000" }\n');
    const env = {
      TRIB_NODE_ID: '3',
      TRIB_LOG__LEVEL: 'debug',
      TRIB_LOG__PRETTY: 'true',
      TRIB_LISTEN__GRPC: '127.0.0.1:0',
      TRIB_ROLES: '[controller, broker]',
      TRIB_LIMITS__MAX_MESSAGE_BYTES: '1048576',
      HOME: '/ignored/without/the/prefix',
    };
    const config = load({ file, env });
    expect(config.nodeId).toBe(3);
    expect(config.log).toEqual({ level: 'debug', pretty: true });
    expect(config.listen).toEqual({ grpc: '127.0.0.1:0', metrics: '127.0.0.1:9000' });
    expect(config.roles).toEqual(['controller', 'broker']);
    expect(config.limits.maxMessageBytes).toBe(1_048_576);
  });

  it('lets overrides win over the environment', () => {
    const env = { TRIB_NODE_ID: '3', TRIB_LOG__LEVEL: 'debug' };
    const config = load({ env, overrides: { log: { level: 'warn', pretty: undefined } } });
    expect(config.log).toEqual({ level: 'warn', pretty: false });
  });

  it('rejects an environment variable naming an unknown key, naming the variable', () => {
    const error = loadError({ env: { TRIB_NODE_ID: '1', TRIB_LOG__LEVL: 'debug' } });
    expect(error.message).toBe(
      'environment variable TRIB_LOG__LEVL: config key "log.levl" is not a known key; allowed keys at "log": level, pretty',
    );
    expect(error.key).toBe('log.levl');
  });

  it('names the variable when its value is invalid', () => {
    expect(loadError({ env: { TRIB_NODE_ID: 'three' } }).message).toBe(
      'environment variable TRIB_NODE_ID: config key "nodeId" has value "three"; allowed: an integer from 1 to 2147483647 (node id)',
    );
  });

  it('rejects a variable value that is not valid YAML', () => {
    expect(loadError({ env: { TRIB_NODE_ID: '1', TRIB_ROLES: '[broker' } }).message).toBe(
      'environment variable TRIB_ROLES: config key "roles" has value "[broker", which is not valid YAML ' +
        '(line 1, column 8: Flow sequence must end with a ]); allowed: a YAML value: quote strings with special characters, lists as [a, b]',
    );
  });

  it('rejects a malformed variable name', () => {
    expect(loadError({ env: { TRIB_LOG__: 'debug' } }).message).toBe(
      'environment variable TRIB_LOG__ is not a valid config variable name; ' +
        'allowed: TRIB_ followed by SNAKE_CASE keys joined by __, e.g. TRIB_LOG__LEVEL',
    );
  });

  it('reads a secret from the file named by a _FILE variable', () => {
    const secretFile = writeFile('tokens', `[${tokenHash}, ${otherTokenHash}]\n`);
    const env = { TRIB_NODE_ID: '1', TRIB_AUTH__TOKENS_FILE: secretFile, TRIB_AUTH__ENABLED: 'true', TRIB_AUTH__PEER_TOKEN_FILE: '/etc/trib/peer-token' };
    const config = load({ env });
    expect(config.auth).toEqual({ enabled: true, tokenFiles: [], tokens: [tokenHash, otherTokenHash], peerTokenFile: '/etc/trib/peer-token' });
  });

  it('treats a variable that names a key ending in File as that key', () => {
    const env = { TRIB_NODE_ID: '1', TRIB_TLS__CERT_FILE: '/etc/cert.pem', TRIB_TLS__KEY_FILE: '/etc/key.pem' };
    const tls = { certFile: '/etc/cert.pem', keyFile: '/etc/key.pem', requireClientCert: false };
    expect(load({ env }).tls).toEqual(tls);
  });

  it('names the variable and the path when a secret file is missing', () => {
    const secretFile = join(directory, 'missing-tokens');
    const error = loadError({ env: { TRIB_NODE_ID: '1', TRIB_AUTH__TOKENS_FILE: secretFile } });
    expect(error.message).toBe(
      `environment variable TRIB_AUTH__TOKENS_FILE: secret file "${secretFile}" could not be read: ` +
        `ENOENT: no such file or directory, open '${secretFile}'`,
    );
    expect(error).toMatchObject({ key: '<file>', value: secretFile });
  });
});

describe('redactConfig', () => {
  it('hides secret values and keeps everything else', () => {
    const auth = `auth: { enabled: true, tokens: [${tokenHash}, ${otherTokenHash}], peerTokenFile: /etc/trib/peer-token }`;
    const file = writeFile('node.yaml', `nodeId: 1\n${auth}\n`);
    const config = load({ file });
    const redacted = redactConfig(config);
    expect(redacted).toEqual({
      nodeId: 1,
      ...defaults,
      auth: { enabled: true, tokenFiles: [], tokens: ['[redacted]', '[redacted]'], peerTokenFile: '/etc/trib/peer-token' },
    });
    expect(JSON.stringify(redacted)).not.toContain(tokenHash);
    expect(config.auth.tokens).toEqual([tokenHash, otherTokenHash]);
  });
});
