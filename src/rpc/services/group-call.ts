import type { Clock } from '../../actors/clock.js';
import type { MetadataController } from '../../actors/metadata-controller/metadata-controller.js';
import type { GroupChangeWaiters } from './group-change-waiters.js';

/** What the group service needs of the controller: the MetadataController in production. */
export type GroupServiceController = Pick<MetadataController, 'nodeId' | 'state' | 'feed' | 'submit' | 'leaderHint' | 'linearizableState'>;

/** Shared by every call of one GroupCoordinatorService. */
export interface GroupServiceContext {
  readonly controller: GroupServiceController;
  readonly clock: Clock;
  readonly waiters: GroupChangeWaiters;
  /** Aborts with SHUTTING_DOWN when the server shuts down. */
  readonly shutdown: AbortSignal;
}

/** A call as the handlers see it: the request, when its deadline passes, and what ends it early. */
export interface GroupCall<Request> {
  readonly request: Request;
  readonly clientId: string;
  /** Milliseconds until the caller's deadline; Infinity when it set none. */
  readonly remainingMs: number;
  /** Any of them aborting ends a long poll with its reason. */
  readonly signals: readonly AbortSignal[];
}
