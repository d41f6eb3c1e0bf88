import type { ChannelCredentials, ChannelOptions, Client } from '@grpc/grpc-js';
import { transportChannelOptions } from '../transport-windows.js';

/**
 * One generated gRPC client per address, made on first use and kept for reuse (a client owns an
 * HTTP/2 connection; making one per call would reconnect every time). At most `stubsMax` are
 * kept: the oldest is closed to make room, so a client that meets many addresses stays bounded.
 */
export class StubCache<Stub extends Client> {
  private readonly stubs = new Map<string, Stub>();

  constructor(
    private readonly makeStub: (address: string, credentials: ChannelCredentials, options: ChannelOptions) => Stub,
    private readonly credentials: ChannelCredentials,
    private readonly stubsMax: number,
  ) {
    if (!Number.isSafeInteger(stubsMax) || stubsMax < 1) throw new RangeError(`stubsMax must be a positive integer, got ${stubsMax}`);
  }

  stubFor(address: string): Stub {
    const existing = this.stubs.get(address);
    if (existing !== undefined) return existing;
    if (this.stubs.size >= this.stubsMax) {
      const [oldestAddress, oldest] = this.stubs.entries().next().value as [string, Stub];
      oldest.close();
      this.stubs.delete(oldestAddress);
    }
    const stub = this.makeStub(address, this.credentials, transportChannelOptions);
    this.stubs.set(address, stub);
    return stub;
  }

  close(): void {
    for (const stub of this.stubs.values()) stub.close();
    this.stubs.clear();
  }
}
