// One client-streaming method over raw bytes, shared by the transport ceiling's client and server:
// identity (de)serialization, so the measurement is grpc-js and HTTP/2 alone, no protobuf.
import type { ServiceDefinition } from '@grpc/grpc-js';

const identity = (bytes: Buffer): Buffer => bytes;

export const byteStreamServiceDefinition: ServiceDefinition = {
  push: {
    path: '/tributary.bench.ByteStream/Push',
    requestStream: true,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};
