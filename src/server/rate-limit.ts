/**
 * Abuse limits for the end-user endpoints (suggestions, rewrite, feedback), in memory per app
 * instance (rate-limiter-flexible): per client address, per unit id and per signed-in user, so
 * inventing unit ids does not get around the address limit and sharing an address (an office
 * behind one NAT) does not starve a signed-in user. With N instances a client gets up to N× the
 * limit; a deployment that needs one global limit puts a limiter in front or swaps in
 * rate-limiter-flexible's PostgreSQL or Redis store here.
 */
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { DomainError } from './errors';
import { env } from './env';

export interface EndUserCaller {
  /** The client's address as the trusted proxies report it (see clientAddress). */
  address: string | null;
  unitId: string | null;
  userId: string | null;
}

export class TooManyRequestsError extends DomainError {
  constructor(
    readonly retryAfterSeconds: number,
    what: string,
  ) {
    super(
      'TOO_MANY_REQUESTS',
      `Too many requests from this ${what}; try again in ${retryAfterSeconds} s`,
      { retryAfterSeconds },
    );
  }
}

export class EndUserLimits {
  private readonly byAddress: RateLimiterMemory;
  private readonly byUnit: RateLimiterMemory;
  private readonly byUser: RateLimiterMemory;

  constructor(limits: { perAddressPerMinute: number; perUnitPerMinute: number }) {
    const per = (keyPrefix: string, points: number) =>
      new RateLimiterMemory({ keyPrefix, points, duration: 60 });
    this.byAddress = per('address', limits.perAddressPerMinute);
    this.byUnit = per('unit', limits.perUnitPerMinute);
    this.byUser = per('user', limits.perUnitPerMinute);
  }

  /** Counts one request against each key the caller has; throws a 429 when any is spent. */
  async check(caller: EndUserCaller): Promise<void> {
    const checks: [RateLimiterMemory, string | null, string][] = [
      [this.byAddress, caller.address, 'address'],
      [this.byUnit, caller.unitId, 'unit'],
      [this.byUser, caller.userId, 'account'],
    ];
    for (const [limiter, key, what] of checks) {
      if (!key) continue;
      await limiter.consume(key).catch((rejection: unknown) => {
        if (rejection instanceof RateLimiterRes)
          throw new TooManyRequestsError(
            Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)),
            what,
          );
        throw rejection;
      });
    }
  }
}

const globalForLimits = globalThis as unknown as { flywheelEndUserLimits?: EndUserLimits };

/** The process's limits, from the environment (kept across dev hot reloads). */
export function endUserLimits(): EndUserLimits {
  const { RATE_LIMIT_PER_IP_PER_MINUTE, RATE_LIMIT_PER_UNIT_PER_MINUTE } = env();
  globalForLimits.flywheelEndUserLimits ??= new EndUserLimits({
    perAddressPerMinute: RATE_LIMIT_PER_IP_PER_MINUTE,
    perUnitPerMinute: RATE_LIMIT_PER_UNIT_PER_MINUTE,
  });
  return globalForLimits.flywheelEndUserLimits;
}

/**
 * The client's address. `npm start` serves Next.js through scripts/serve-next.mjs, which always
 * appends the socket's peer to X-Forwarded-For, so the last entry cannot be forged; each trusted
 * proxy in front adds one more, and the entry `trustedHops` from the end is the client.
 */
export function clientAddress(
  headers: Headers,
  trustedHops = env().TRUSTED_PROXY_HOPS,
): string | null {
  const hops = (headers.get('x-forwarded-for') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return hops[hops.length - 1 - trustedHops] ?? hops[0] ?? null;
}

/** The `unitId` a raw end-user input names, if any (read before the input is validated). */
export function unitIdOf(input: unknown): string | null {
  const unitId = (input as { unitId?: unknown } | null)?.unitId;
  return typeof unitId === 'string' ? unitId : null;
}

/** The Retry-After a 429 carries, in seconds, or null. */
export function retryAfterOf(error: unknown): number | null {
  const cause = (error as { cause?: unknown } | null)?.cause ?? error;
  return cause instanceof TooManyRequestsError ? cause.retryAfterSeconds : null;
}

export interface EndUserRequest {
  getUser: () => Promise<{ id: string } | null>;
  clientAddress: string | null;
  unitId: string | null;
  /** Overrides ALLOW_ANONYMOUS_WRITE (tests). */
  allowAnonymousWrite?: boolean;
}

/**
 * The one admission rule of the end-user endpoints (tRPC, the rewrite stream): anyone when
 * ALLOW_ANONYMOUS_WRITE is on, otherwise a signed-in user; rate-limited per address, unit and
 * user either way.
 */
export async function admitEndUser(req: EndUserRequest): Promise<void> {
  const allowAnonymous = req.allowAnonymousWrite ?? env().ALLOW_ANONYMOUS_WRITE;
  const user = allowAnonymous ? null : await req.getUser();
  if (!allowAnonymous && !user)
    throw new DomainError(
      'UNAUTHORIZED',
      'Sign in to use the writing assistant (or set ALLOW_ANONYMOUS_WRITE=1 to open it to everyone)',
    );
  await endUserLimits().check({
    address: req.clientAddress,
    unitId: req.unitId,
    userId: user?.id ?? null,
  });
}
