import { Metadata, type ServiceError, status as GrpcStatus } from '@grpc/grpc-js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { errorCodes, TributaryError } from '../../../src/errors/index.js';
import { errorDetailTrailer, fromGrpcError, toGrpcStatus } from '../../../src/rpc/error-status.js';
import { ErrorCode as WireErrorCode, ErrorDetail } from '../../../src/rpc/generated/tributary/common/v1/common.js';

/** What a grpc-js client hands its callback for a status the server sent. */
function asServiceError(status: ReturnType<typeof toGrpcStatus>): ServiceError {
  return Object.assign(new Error(`${status.code} ${GrpcStatus[status.code]}: ${status.details}`), status);
}

function bareServiceError(code: GrpcStatus, details: string): ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new Metadata() });
}

describe('the error model on the wire', () => {
  it('names exactly the codes of tributary.common.v1.ErrorCode, less UNSPECIFIED and OK', () => {
    const wireNames = Object.keys(WireErrorCode).filter((key) => Number.isNaN(Number(key)) && key !== 'UNRECOGNIZED');
    expect([...errorCodes].sort()).toEqual(wireNames.filter((name) => name !== 'UNSPECIFIED' && name !== 'OK').sort());
  });

  it('round-trips every code with its message, retriability, retry delay and leader hint', () => {
    const leaderHint = fc.option(
      fc.record({ nodeId: fc.integer({ min: 0, max: 2 ** 31 }), address: fc.string(), epoch: fc.maxSafeNat() }),
      { nil: undefined },
    );
    fc.assert(
      fc.property(fc.constantFrom(...errorCodes), fc.string(), fc.boolean(), fc.integer({ min: 0, max: 2 ** 32 - 1 }), leaderHint, (code, message, retriable, retryAfterMs, hint) => {
        const sent = new TributaryError(code, message, { retriable, retryAfterMs, leaderHint: hint });
        const received = fromGrpcError(asServiceError(toGrpcStatus(sent)));
        expect(received).toBeInstanceOf(TributaryError);
        expect({ code: received.code, message: received.message, retriable: received.retriable, retryAfterMs: received.retryAfterMs, leaderHint: received.leaderHint })
          .toEqual({ code, message, retriable, retryAfterMs, leaderHint: hint });
      }),
    );
  });

  it('sends each code under the gRPC status generic tooling expects', () => {
    const statusOf = (code: (typeof errorCodes)[number]) => toGrpcStatus(new TributaryError(code, 'x')).code;
    expect(statusOf('INVALID_REQUEST')).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(statusOf('NOT_LEADER')).toBe(GrpcStatus.UNAVAILABLE);
    expect(statusOf('TIMEOUT')).toBe(GrpcStatus.DEADLINE_EXCEEDED);
    expect(statusOf('OFFSET_OUT_OF_RANGE')).toBe(GrpcStatus.OUT_OF_RANGE);
    expect(statusOf('CORRUPT_RECORD')).toBe(GrpcStatus.DATA_LOSS);
    expect(statusOf('TOPIC_NOT_FOUND')).toBe(GrpcStatus.NOT_FOUND);
  });

  it('reports anything that is not a TributaryError as UNKNOWN, keeping its message', () => {
    const status = toGrpcStatus(new RangeError('offset 9007199254740993 is not a safe integer'));
    expect(status.code).toBe(GrpcStatus.UNKNOWN);
    const received = fromGrpcError(asServiceError(status));
    expect(received.code).toBe('UNKNOWN');
    expect(received.message).toBe('offset 9007199254740993 is not a safe integer');
    expect(received.retriable).toBe(false);
  });

  it('classifies failures that carry no trailer by their gRPC status', () => {
    expect(fromGrpcError(bareServiceError(GrpcStatus.UNAVAILABLE, 'connection refused'))).toMatchObject({ code: 'NOT_AVAILABLE', retriable: true, message: 'connection refused' });
    expect(fromGrpcError(bareServiceError(GrpcStatus.DEADLINE_EXCEEDED, 'deadline'))).toMatchObject({ code: 'TIMEOUT', retriable: true });
    expect(fromGrpcError(bareServiceError(GrpcStatus.UNIMPLEMENTED, 'no such method'))).toMatchObject({ code: 'NOT_AVAILABLE', retriable: false });
    expect(fromGrpcError(bareServiceError(GrpcStatus.INTERNAL, 'boom'))).toMatchObject({ code: 'UNKNOWN', retriable: false });
  });

  it('reports a malformed trailer as UNKNOWN instead of trusting it', () => {
    const metadata = new Metadata();
    metadata.set(errorDetailTrailer, Buffer.from([0xff, 0xff, 0xff]));
    const undecodable = fromGrpcError(Object.assign(new Error('x'), { code: GrpcStatus.UNAVAILABLE, details: 'x', metadata }));
    expect(undecodable.code).toBe('UNKNOWN');
    expect(undecodable.message).toMatch(/^undecodable tributary-error-bin trailer: /);

    const unspecified = new Metadata();
    unspecified.set(errorDetailTrailer, Buffer.from(ErrorDetail.encode({ code: WireErrorCode.UNSPECIFIED, message: 'hm', retriable: true, retryAfterMs: 0 }).finish()));
    const received = fromGrpcError(Object.assign(new Error('x'), { code: GrpcStatus.UNKNOWN, details: 'x', metadata: unspecified }));
    expect(received).toMatchObject({ code: 'UNKNOWN', retriable: false, message: 'malformed error detail (code 0): hm' });
  });

  it('refuses a retry delay the wire cannot carry', () => {
    expect(() => new TributaryError('NOT_AVAILABLE', 'x', { retryAfterMs: -1 })).toThrow('retryAfterMs must be an integer from 0 to 4294967295, got -1');
    expect(() => new TributaryError('NOT_AVAILABLE', 'x', { retryAfterMs: 1.5 })).toThrow('retryAfterMs must be an integer from 0 to 4294967295, got 1.5');
    expect(() => new TributaryError('NOT_AVAILABLE', 'x', { retryAfterMs: 2 ** 32 })).toThrow('retryAfterMs must be an integer from 0 to 4294967295, got 4294967296');
  });
});
