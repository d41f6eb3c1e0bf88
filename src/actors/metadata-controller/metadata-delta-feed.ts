import { type MetadataDelta, type MetadataState, metadataImage } from '../../controller/index.js';
import { TributaryError } from '../../errors/index.js';

/** What a watcher receives: deltas after its version, or a whole image when those are gone. */
export type MetadataUpdate =
  | { readonly kind: 'deltas'; readonly deltas: readonly MetadataDelta[]; readonly version: number }
  | { readonly kind: 'image'; readonly records: readonly MetadataDelta[]; readonly version: number };

export type MetadataWatcher = (update: MetadataUpdate) => void;

/**
 * The recent deltas, so WatchMetadata streams resume from a version without a full image, and
 * the watchers to push new ones to (brokers never poll). The history is bounded by
 * `historyDeltasMax`: a watcher further behind, or any watcher after a snapshot replaced the state,
 * gets a full image instead.
 */
export class MetadataDeltaFeed {
  private history: MetadataDelta[] = [];
  /** Deltas above this version are all in `history`. */
  private historyFromVersion = 0;
  private readonly watchers = new Set<MetadataWatcher>();

  constructor(
    private readonly stateNow: () => MetadataState,
    readonly historyDeltasMax: number,
    readonly watchersMax: number,
  ) {}

  get watcherCount(): number {
    return this.watchers.size;
  }

  applied(deltas: readonly MetadataDelta[], version: number): void {
    this.history.push(...deltas);
    if (this.history.length > this.historyDeltasMax) {
      const dropped = this.history.splice(0, this.history.length - this.historyDeltasMax);
      this.historyFromVersion = dropped.at(-1)?.version ?? this.historyFromVersion;
      // Never split one version's deltas: a watcher resuming there would miss part of it.
      while (this.history[0] !== undefined && this.history[0].version === this.historyFromVersion) this.history.shift();
    }
    for (const watcher of this.watchers) watcher({ kind: 'deltas', deltas, version });
  }

  restored(state: MetadataState): void {
    this.history = [];
    this.historyFromVersion = state.version;
    const image = { kind: 'image', records: metadataImage(state), version: state.version } as const;
    for (const watcher of this.watchers) watcher(image);
  }

  /**
   * Starts a watch at `fromVersion` (0: from nothing). The first update catches the watcher up,
   * synchronously; later ones follow each apply. Returns the function that ends the watch.
   */
  watch(fromVersion: number, watcher: MetadataWatcher): () => void {
    if (this.watchers.size >= this.watchersMax) {
      throw new TributaryError('RESOURCE_EXHAUSTED', `${this.watchers.size} metadata watches are open on this controller (at most ${this.watchersMax}); retry later or on another controller`, { retryAfterMs: 1_000 });
    }
    const state = this.stateNow();
    if (fromVersion === 0 || fromVersion < this.historyFromVersion || fromVersion > state.version) {
      watcher({ kind: 'image', records: metadataImage(state), version: state.version });
    } else {
      const missed = this.history.filter((delta) => delta.version > fromVersion);
      if (missed.length > 0) watcher({ kind: 'deltas', deltas: missed, version: state.version });
    }
    this.watchers.add(watcher);
    return () => this.watchers.delete(watcher);
  }
}
