import { TributaryError } from '../../errors/index.js';
import { backoffDelayMs, type BackoffLimits } from './backoff-delay-ms.js';

/** How hard a LeaderRouter tries before giving up; every bound named. */
export interface LeaderRoutingPolicy extends BackoffLimits {
  /** Calls made for one request, redirects and retries included. */
  readonly attemptsMax: number;
}

export const leaderRoutingDefaults: LeaderRoutingPolicy = { attemptsMax: 10, backoffMsMin: 25, backoffMsMax: 1_000 };

/** Codes that say "this node cannot answer now, another may": the router moves on. */
const redirectingCodes = new Set(['NOT_LEADER', 'NOT_AVAILABLE', 'SHUTTING_DOWN']);

/**
 * Sends requests to the controller leader, found from a bootstrap list: it follows NOT_LEADER
 * hints at once, tries the next address when a node is down or has no leader to name, and backs
 * off exponentially with jitter between full rounds. A TIMEOUT is retried only for idempotent
 * requests: a write that timed out may have been applied.
 */
export class LeaderRouter {
  private readonly addresses: string[];
  private preferred: string;

  constructor(
    bootstrap: readonly string[],
    private readonly policy: LeaderRoutingPolicy = leaderRoutingDefaults,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    private readonly random: () => number = Math.random,
  ) {
    if (bootstrap.length === 0) throw new TributaryError('INVALID_REQUEST', 'a bootstrap list needs at least one controller address');
    this.addresses = [...bootstrap];
    this.preferred = bootstrap[0] ?? '';
  }

  /** The address the next request goes to first: the last known leader. */
  get target(): string {
    return this.preferred;
  }

  async call<T>(request: (address: string) => Promise<T>, options: { idempotent: boolean }): Promise<T> {
    let lastError: TributaryError | undefined;
    let failures = 0;
    for (let attempt = 1; attempt <= this.policy.attemptsMax; attempt++) {
      const address = this.preferred;
      try {
        return await request(address);
      } catch (error) {
        const failure = TributaryError.from(error);
        if (!this.shouldRetry(failure, options.idempotent)) throw failure;
        lastError = failure;
        const hinted = failure.leaderHint?.address;
        if (hinted !== undefined && hinted !== '' && hinted !== address) {
          this.remember(hinted);
          continue;
        }
        this.preferred = this.nextAfter(address);
        failures++;
        await this.sleep(Math.max(failure.retryAfterMs, backoffDelayMs(failures, this.policy, this.random)));
      }
    }
    throw new TributaryError(
      'NOT_AVAILABLE',
      `no controller leader answered after ${this.policy.attemptsMax} attempts over ${this.addresses.join(', ')}: ${lastError?.message ?? 'no error'}`,
      { cause: lastError },
    );
  }

  private shouldRetry(failure: TributaryError, idempotent: boolean): boolean {
    if (redirectingCodes.has(failure.code)) return true;
    return idempotent && failure.code === 'TIMEOUT';
  }

  private remember(address: string): void {
    if (!this.addresses.includes(address)) this.addresses.push(address);
    this.preferred = address;
  }

  private nextAfter(address: string): string {
    const position = this.addresses.indexOf(address);
    return this.addresses[(position + 1) % this.addresses.length] ?? address;
  }
}

