// Who may use the end-user endpoints, and how often.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { toPublicError } from './errors';
import { clientAddress, EndUserLimits, retryAfterOf } from './rate-limit';
import { createCaller } from '~/composition/root';
import { contextFor, type SessionUser, type TRPCContext } from './trpc';
import { describeOnEachDatabase, makeUser } from '~/test/databases';

describe('EndUserLimits', () => {
  it('limits per address, per unit and per user, with a Retry-After', async () => {
    const limits = new EndUserLimits({ perAddressPerMinute: 5, perUnitPerMinute: 3 });
    const caller = { address: '203.0.113.7', unitId: 'u1', userId: null };
    for (let i = 0; i < 3; i++) await limits.check(caller);
    const refused = await limits.check(caller).catch((e: unknown) => e);
    expect(toPublicError(refused)).toMatchObject({
      status: 429,
      message: expect.stringContaining('unit'),
    });
    expect(retryAfterOf(refused)).toBeGreaterThanOrEqual(1);
    // Inventing unit ids does not get around the address limit (2 of 5 left after 3 + 1 refused).
    await limits.check({ ...caller, unitId: 'u2' });
    const byAddress = await limits.check({ ...caller, unitId: 'u3' }).catch((e: unknown) => e);
    expect(toPublicError(byAddress)).toMatchObject({
      status: 429,
      message: expect.stringContaining('address'),
    });
    // Another address and unit is untouched.
    await limits.check({ address: '198.51.100.1', unitId: 'u9', userId: null });
    // A signed-in user is limited across units.
    const user = { address: null, userId: 'user-1' };
    for (let i = 0; i < 3; i++) await limits.check({ ...user, unitId: `x${i}` });
    expect(
      toPublicError(await limits.check({ ...user, unitId: 'x9' }).catch((e: unknown) => e)),
    ).toMatchObject({ status: 429 });
  });

  it('takes the client address from the entry the trusted proxies vouch for', () => {
    const h = (xff: string) => new Headers({ 'x-forwarded-for': xff });
    // scripts/serve-next.mjs appends the socket peer: a forged first entry is ignored.
    expect(clientAddress(h('1.1.1.1, 203.0.113.7'), 0)).toBe('203.0.113.7');
    expect(clientAddress(h('1.1.1.1, 203.0.113.7, 10.0.0.2'), 1)).toBe('203.0.113.7');
    expect(clientAddress(h('203.0.113.7'), 2)).toBe('203.0.113.7');
    expect(clientAddress(new Headers(), 0)).toBeNull();
  });
});

describeOnEachDatabase('end-user access', ({ db }) => {
  const ctx = (user: SessionUser | null, allowAnonymousWrite: boolean): TRPCContext => ({
    ...contextFor(db(), user),
    allowAnonymousWrite,
    clientAddress: `203.0.113.${Math.floor(Math.random() * 250)}`,
  });
  const input = () => ({ unitId: `u-${randomUUID()}`, events: [] as never[] });

  it('needs a signed-in user unless ALLOW_ANONYMOUS_WRITE is on', async () => {
    const anonymous = createCaller(ctx(null, false));
    const refused = await anonymous.feedback
      .ingest(input())
      .catch((e: unknown) => toPublicError(e));
    expect(refused).toMatchObject({
      status: 401,
      message: expect.stringContaining('ALLOW_ANONYMOUS_WRITE'),
    });
    const suggestion = await anonymous.suggestions
      .complete({ featureId: 'inline-completion', unitId: 'u', textBefore: 'Hi' })
      .catch((e: unknown) => toPublicError(e));
    expect(suggestion).toMatchObject({ status: 401 });

    // Signed in (any role), or anonymous where allowed: admitted (then the input is checked).
    const viewer = await makeUser(db(), 'viewer');
    for (const caller of [
      createCaller(ctx({ ...viewer, role: 'viewer' }, false)),
      createCaller(ctx(null, true)),
    ]) {
      const error = await caller.feedback.ingest(input()).catch((e: unknown) => toPublicError(e));
      expect(error).toMatchObject({ status: 400, message: expect.stringContaining('events') });
    }
  });
});
