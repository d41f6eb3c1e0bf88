/**
 * A running child as the supervisor sees it: a handle to something long-lived (a broker's
 * lifecycle, a partition replica, a fetcher) that can end by itself and can be asked to stop.
 */
export interface SupervisedChild {
  /**
   * Settles when the child ends by itself: resolves for a normal exit, rejects with the crash.
   * A child stopped through `stop()` may leave it pending: the supervisor no longer watches it then.
   */
  readonly done: Promise<void>;
  /** Asks the child to stop; resolves once it has (the supervisor bounds the wait, see stopTimeoutMs). */
  stop(): Promise<void>;
}
