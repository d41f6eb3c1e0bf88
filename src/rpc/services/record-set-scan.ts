import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';

/*
 * A walk over a serialized tributary.common.v1.RecordSet that reads only what the broker's produce
 * check needs of each record, its offset_delta and timestamp_ms, and skips keys, values and headers
 * without copying them. The generated RecordSet.decode copies every key and value into a Buffer of
 * its own, which made it most of the produce check's cost (docs/BENCHMARKS.md, "compression").
 *
 * It accepts no input the generated decoder refuses: it reads the same fields with the same
 * BinaryReader calls (header keys included, as UTF-8 strings), so truncations, overlong varints,
 * timestamps beyond a safe integer and bad wire types fail here too. It is stricter where the
 * decoder is lenient and our encoder never goes: a zero tag or a group (which end a message early in
 * the generated decoder) and a field that runs past its message's length are refused. The
 * property test in test/unit/rpc/record-set-scan.test.ts holds it to that.
 */

/** Field numbers of tributary.common.v1.RecordSet, Record and RecordHeader. */
const recordSetRecordsField = 1;
const recordTimestampField = 3;
const recordOffsetDeltaField = 4;
const recordHeadersField = 5;
const headerKeyField = 1;

/**
 * Calls `visit` with each record's offset_delta and timestamp_ms, in order, and returns how many
 * records the set holds. Throws an Error saying what is malformed.
 */
export function scanRecordSet(bytes: Uint8Array, visit: (offsetDelta: number, timestampMs: number) => void): number {
  const reader = new BinaryReader(bytes);
  let recordCount = 0;
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === recordSetRecordsField && wireType === WireType.LengthDelimited) {
      scanRecord(reader, messageEnd(reader), visit);
      recordCount++;
    } else {
      skipField(reader, wireType);
    }
  }
  return recordCount;
}

function scanRecord(reader: BinaryReader, end: number, visit: (offsetDelta: number, timestampMs: number) => void): void {
  let offsetDelta = 0;
  let timestampMs = 0;
  while (reader.pos < end) {
    const [field, wireType] = reader.tag();
    if (field === recordTimestampField && wireType === WireType.Varint) timestampMs = safeInteger(reader.int64());
    else if (field === recordOffsetDeltaField && wireType === WireType.Varint) offsetDelta = reader.uint32();
    else if (field === recordHeadersField && wireType === WireType.LengthDelimited) scanHeader(reader, messageEnd(reader));
    else skipField(reader, wireType);
  }
  checkEnd(reader, end, 'record');
  visit(offsetDelta, timestampMs);
}

/** A header's key is read as the decoder reads it, so a key it would refuse is refused here. */
function scanHeader(reader: BinaryReader, end: number): void {
  while (reader.pos < end) {
    const [field, wireType] = reader.tag();
    if (field === headerKeyField && wireType === WireType.LengthDelimited) reader.string();
    else skipField(reader, wireType);
  }
  checkEnd(reader, end, 'record header');
}

/** The end of the length-delimited message that starts at the reader's position. */
function messageEnd(reader: BinaryReader): number {
  const length = reader.uint32();
  const end = reader.pos + length;
  if (end > reader.len) throw new RangeError(`premature EOF: a ${length}-byte message at byte ${reader.pos} runs past the ${reader.len} bytes of the record set`);
  return end;
}

function skipField(reader: BinaryReader, wireType: WireType): void {
  if (wireType === WireType.StartGroup || wireType === WireType.EndGroup) throw new Error(`wire type ${wireType} (group) at byte ${reader.pos}; a RecordSet has no groups`);
  reader.skip(wireType);
}

function checkEnd(reader: BinaryReader, end: number, what: string): void {
  if (reader.pos !== end) throw new Error(`a ${what}'s last field runs ${reader.pos - end} bytes past its length`);
}

/** As the generated decoder converts an int64 (longToNumber): a number, refused beyond a safe integer. */
function safeInteger(value: bigint | string): number {
  const number = Number(value);
  if (!Number.isSafeInteger(number)) throw new Error(`timestamp_ms ${String(value)} is beyond a safe integer`);
  return number;
}
