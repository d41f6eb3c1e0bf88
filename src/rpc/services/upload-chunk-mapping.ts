import { BinaryWriter } from '@bufbuild/protobuf/wire';
import type { UploadChunk } from '../../ingest/ingest-partition.js';
import type { SensorShape, SourceSpec } from '../../ingest/ingest-types.js';
import { hexOf } from '../../ingest/session-digest.js';
import { TributaryError } from '../../errors/index.js';
import { crc32c } from '../../storage/crc32c.js';
import type { UploadRequest } from '../generated/tributary/ingest/v1/data_ingest_service.js';
import { SensorReadings } from '../generated/tributary/ingest/v1/ingest_types.js';

const sha256Bytes = 32;
const utf8 = new TextEncoder();

/**
 * The chunk an UploadRequest carries, in source bytes (ingest_types.proto's byte model), after the
 * checks that need no session state: the payload variant matches the source, JSON is whole JSON
 * Lines, sensor readings match the descriptor, the size bound, the CRC32C (CHECKSUM_MISMATCH:
 * the chunk is discarded) and the final flag's SHA-256. INVALID_REQUEST naming the field otherwise.
 */
export function uploadChunkOf(request: UploadRequest, spec: SourceSpec, maxChunkBytes: number, where: string): UploadChunk {
  const at = `${where} source "${spec.name}" chunk at byte ${request.offsetBytes}`;
  if (!Number.isSafeInteger(request.offsetBytes)) throw invalid(`${at}: offset_bytes is not a safe integer`);
  const payload = payloadBytes(request, spec, at);
  if (payload.byteLength > maxChunkBytes) throw invalid(`${at}: the payload is ${payload.byteLength} bytes; a chunk carries at most ${maxChunkBytes} (max_chunk_bytes)`);
  const computed = payload.byteLength === 0 ? 0 : crc32c(payload);
  if (computed !== request.crc32c) {
    throw new TributaryError('CHECKSUM_MISMATCH', `${at}: the payload's CRC32C is ${hex32(computed)}, the chunk says ${hex32(request.crc32c)}; the chunk was discarded, send it again`);
  }
  if (request.final !== (request.sha256.byteLength > 0)) throw invalid(`${at}: sha256 is required on a final chunk and not allowed on others`);
  if (request.final && request.sha256.byteLength !== sha256Bytes) throw invalid(`${at}: sha256 is ${request.sha256.byteLength} bytes; a SHA-256 is ${sha256Bytes}`);
  return { source: spec.name, offsetBytes: request.offsetBytes, payload, final: request.final, sha256Hex: request.final ? hexOf(request.sha256) : '' };
}

function payloadBytes(request: UploadRequest, spec: SourceSpec, at: string): Uint8Array {
  const { payload } = request;
  if (payload === undefined) {
    if (!request.final) throw invalid(`${at}: only a final chunk may leave the payload unset`);
    return new Uint8Array(0);
  }
  if (payload.$case !== spec.payloadKind) throw invalid(`${at}: a ${payload.$case} payload was sent to a source declared ${spec.payloadKind.toUpperCase()}`);
  switch (payload.$case) {
    case 'binary':
      return payload.value;
    case 'json':
      checkJsonLines(payload.value, at);
      return utf8.encode(payload.value);
    case 'sensor':
      checkReadings(payload.value, spec.sensor as SensorShape, at);
      return SensorReadings.encode(payload.value, new BinaryWriter().fork()).join().finish();
  }
}

/** JSON Lines: one or more complete values, each ending in "\n". */
function checkJsonLines(text: string, at: string): void {
  if (!text.endsWith('\n')) throw invalid(`${at}: a JSON payload must end with "\\n" (JSON Lines: whole values only)`);
  const lines = text.slice(0, -1).split('\n');
  lines.forEach((line, index) => {
    try {
      JSON.parse(line);
    } catch {
      throw invalid(`${at}: line ${index + 1} of the JSON payload is not a complete JSON value`);
    }
  });
}

function checkReadings(readings: SensorReadings, shape: SensorShape, at: string): void {
  if (Number(readings.kind) !== shape.kind) throw invalid(`${at}: the readings' sensor kind ${readings.kind} is not the source's ${shape.kind}`);
  if (readings.channelCount !== shape.channelCount) throw invalid(`${at}: the readings have ${readings.channelCount} channels; the source has ${shape.channelCount}`);
  if (readings.units.join('\u0000') !== shape.units.join('\u0000')) throw invalid(`${at}: the readings' units [${readings.units.join(', ')}] are not the source's [${shape.units.join(', ')}]`);
  const samples = readings.values.length / readings.channelCount;
  if (!Number.isInteger(samples) || samples < 1) throw invalid(`${at}: ${readings.values.length} values are not a whole number (at least 1) of samples of ${readings.channelCount} channels`);
  const regular = readings.sampleIntervalUs > 0;
  const offsetsExpected = regular ? 1 : samples;
  if (readings.timestampOffsetsUs.length !== offsetsExpected) {
    throw invalid(`${at}: ${readings.timestampOffsetsUs.length} timestamp offsets for ${samples} samples; give ${regular ? 'one (the first sample\'s) with sample_interval_us' : 'one per sample'}`);
  }
  for (let index = 1; index < readings.timestampOffsetsUs.length; index += 1) {
    if ((readings.timestampOffsetsUs[index] as number) < (readings.timestampOffsetsUs[index - 1] as number)) throw invalid(`${at}: timestamp offset ${index} goes back in time`);
  }
}

function hex32(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}

function invalid(message: string): TributaryError {
  return new TributaryError('INVALID_REQUEST', message);
}
