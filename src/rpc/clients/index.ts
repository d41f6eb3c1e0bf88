export { checkHealth, type ServingStatus } from './health-client.js';
export { clientDeadlineMsDefault, defaultClientOptions, type ClientOptions, type ClientTlsFiles } from './client-options.js';
export { listServices } from './reflection-client.js';
export { getVersion, type NodeVersion } from './version-client.js';
