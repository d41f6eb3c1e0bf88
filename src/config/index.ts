export { ConfigError, type ConfigIssue } from './config-error.js';
export { loadConfig, type LoadConfigOptions } from './load-config.js';
export { nodeConfigSchema, secretConfigKeys, type NodeConfig } from './node-config-schema.js';
export { redactConfig } from './redact-config.js';
