import type { ChildSpec, RestartPolicy } from './child-spec.js';
import { NodeSupervisor } from './node-supervisor.js';
import type { SupervisorOptions } from './supervisor-options.js';

/**
 * A supervisor as a child of another one (OTP's supervision tree). Each (re)start builds a fresh
 * supervisor with fresh children from `children`; its escalation rejects its `done`, which the
 * parent counts as this child's crash and handles per `restart` (permanent by default: a subtree
 * that gave up is started again until the parent itself gives up).
 */
export function supervisorChildSpec(id: string, options: SupervisorOptions, children: readonly ChildSpec[], restart: RestartPolicy = 'permanent'): ChildSpec {
  return {
    id,
    restart,
    start: async () => (await NodeSupervisor.start(options, children)).asChild(),
  };
}
