/** What a partition remembers about one idempotent producer, to answer duplicates and reject gaps. */
export interface ProducerState {
  readonly producerEpoch: number;
  /** Sequence number of the producer's last appended record. */
  readonly lastSequence: number;
  /** Offset of the producer's last appended record. */
  readonly lastOffset: number;
  /** Max timestamp of the producer's last batch, for expiring idle producers. */
  readonly timestampMs: number;
}

/** One partition's producer states, keyed by producer id. Writes resolve once durable. */
export interface ProducerStateStore {
  get(producerId: number): Promise<ProducerState | undefined>;
  put(producerId: number, state: ProducerState): Promise<void>;
  delete(producerId: number): Promise<void>;
  /** Every producer's state, in producer id order: what a partition loads when it opens. */
  list(): Promise<Map<number, ProducerState>>;
}
