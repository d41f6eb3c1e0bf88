export type { ChildSpec, RestartPolicy } from './child-spec.js';
export { NodeSupervisor, type ChildStatus } from './node-supervisor.js';
export type { SupervisedChild } from './supervised-child.js';
export { supervisorChildSpec } from './supervisor-child-spec.js';
export { supervisorDefaults, type SupervisorOptions } from './supervisor-options.js';
