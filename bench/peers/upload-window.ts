// The ingest benchmark's measurement, shared by every target (bench/ingest.ts): `uploaders`
// concurrent uploads of a fixed number of bytes each, timed from the moment the first one starts
// sending to the moment the last one has its acknowledgement. Connections and sessions are set up
// before, so the window holds only the bytes' journey and their acks.
import { performance } from 'node:perf_hooks';

export interface UploadResult {
  /** Uploads run at once (devices, publishers or streams). */
  readonly uploaders: number;
  /** Bytes acknowledged over all uploads. */
  readonly bytes: number;
  readonly seconds: number;
  readonly mebibytesPerSecond: number;
}

/**
 * Starts `upload(index)` for every uploader at once and waits for all of them; each resolves with
 * the bytes it got acknowledged. The first failure fails the measurement (after every upload has
 * settled, so none is still running when the target stops).
 */
export async function measureUploads(uploaders: number, upload: (index: number) => Promise<number>): Promise<UploadResult> {
  if (!Number.isSafeInteger(uploaders) || uploaders < 1) throw new Error(`measureUploads: uploaders must be a positive integer, got ${uploaders}`);
  const startMs = performance.now();
  const settled = await Promise.allSettled(Array.from({ length: uploaders }, (_, index) => upload(index)));
  const seconds = (performance.now() - startMs) / 1_000;
  const failure = settled.find((result) => result.status === 'rejected');
  if (failure !== undefined) throw failure.reason;
  const bytes = settled.reduce((sum, result) => sum + (result.status === 'fulfilled' ? result.value : 0), 0);
  return { uploaders, bytes, seconds, mebibytesPerSecond: bytes / 1_048_576 / seconds };
}
