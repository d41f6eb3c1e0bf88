import { type ClientDuplexStream, credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import type { TributaryError } from '../../src/errors/index.js';
import { type ProducerRecord, encodeRecordBatch } from '../../src/rpc/clients/index.js';
import { newRequestHeader } from '../../src/rpc/clients/request-header.js';
import { fromGrpcError } from '../../src/rpc/error-status.js';
import { ConsumerServiceClient } from '../../src/rpc/generated/tributary/client/v1/consumer_service.js';
import {
  ProducerServiceClient, type ProduceStreamRequest, type ProduceStreamResponse,
} from '../../src/rpc/generated/tributary/client/v1/producer_service.js';
import type { RecordBatch } from '../../src/rpc/generated/tributary/common/v1/common.js';

/*
 * Raw calls to a broker's ProducerService and ConsumerService through the generated clients, so
 * the integration tests see exactly what the wire carries: a failure comes back as the
 * TributaryError the server sent (decoded from its trailer), never a raw gRPC error.
 */

export const header = () => newRequestHeader('data-plane-test');

/** A generous deadline: tests never assert on time, only on what comes back. */
const callDeadlineMs = 15_000;

export interface DataPlaneClients {
  readonly producer: ProducerServiceClient;
  readonly consumer: ConsumerServiceClient;
  close(): void;
}

export function dataPlaneClients(address: string): DataPlaneClients {
  const producer = new ProducerServiceClient(address, credentials.createInsecure());
  const consumer = new ConsumerServiceClient(address, credentials.createInsecure());
  return { producer, consumer, close: () => (producer.close(), consumer.close()) };
}

type Unary<Request, Response> = (request: Request, metadata: Metadata, options: { deadline: Date }, callback: (error: ServiceError | null, response: Response) => void) => unknown;

/** One unary call; resolves with the response, rejects with the server's TributaryError. */
export function unary<Request, Response>(method: Unary<Request, Response>, request: Request): Promise<Response> {
  return new Promise((resolve, reject) => {
    method(request, new Metadata(), { deadline: new Date(Date.now() + callDeadlineMs) }, (error, response) => (error ? reject(fromGrpcError(error)) : resolve(response)));
  });
}

/** The TributaryError a call failed with; fails the test when it succeeded. */
export async function failureOf(call: Promise<unknown>): Promise<TributaryError> {
  try {
    await call;
  } catch (error) {
    return error as TributaryError;
  }
  throw new Error('expected the call to fail');
}

/** A batch of one-byte-valued records "v0", "v1"… stamped `timestampMs` + position. */
export function batchOf(values: readonly string[], timestampMs = 1_700_000_000_000): RecordBatch {
  const records: ProducerRecord[] = values.map((value, position) => ({ value: new TextEncoder().encode(value), timestampMs: timestampMs + position }));
  return encodeRecordBatch(records);
}

/** A ProduceStream with its responses gathered and its end awaited. */
export interface OpenStream {
  readonly stream: ClientDuplexStream<ProduceStreamRequest, ProduceStreamResponse>;
  readonly responses: ProduceStreamResponse[];
  /** Resolves with undefined when the server ends the call OK, or with the error it ended it with. */
  readonly ended: Promise<TributaryError | undefined>;
}

export function openProduceStream(producer: ProducerServiceClient): OpenStream {
  const stream = producer.produceStream(new Metadata(), { deadline: new Date(Date.now() + callDeadlineMs) });
  const responses: ProduceStreamResponse[] = [];
  stream.on('data', (response: ProduceStreamResponse) => responses.push(response));
  const ended = new Promise<TributaryError | undefined>((resolve) => {
    stream.on('error', (error: ServiceError) => resolve(fromGrpcError(error)));
    stream.on('status', (status: { code: number }) => {
      if (status.code === 0) resolve(undefined);
    });
  });
  return { stream, responses, ended };
}
