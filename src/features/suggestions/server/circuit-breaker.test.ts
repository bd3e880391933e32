import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from './circuit-breaker';

function breaker() {
  let now = 0;
  const b = new CircuitBreaker({ failureThreshold: 3, cooldownMs: 1000, now: () => now });
  return { b, advance: (ms: number) => (now += ms) };
}

describe('circuit breaker', () => {
  it('opens after N consecutive failures, not after interleaved ones', () => {
    const { b } = breaker();
    b.onFailure('x');
    b.onFailure('x');
    b.onSuccess();
    b.onFailure('x');
    b.onFailure('x');
    expect(b.snapshot().state).toBe('closed');
    b.onFailure('boom');
    expect(b.snapshot()).toMatchObject({ state: 'open', lastError: 'boom', retryAt: 1000 });
    expect(b.tryAcquire()).toBe(false);
    expect(b.isAvailable()).toBe(false);
  });

  it('lets one probe through after the cooldown and closes on its success', () => {
    const { b, advance } = breaker();
    for (let i = 0; i < 3; i++) b.onFailure('x');
    advance(999);
    expect(b.tryAcquire()).toBe(false);
    advance(1);
    expect(b.isAvailable()).toBe(true);
    expect(b.tryAcquire()).toBe(true); // the probe
    expect(b.snapshot().state).toBe('half_open');
    expect(b.tryAcquire()).toBe(false); // only one at a time
    b.onSuccess();
    expect(b.snapshot()).toMatchObject({ state: 'closed', consecutiveFailures: 0 });
    expect(b.tryAcquire()).toBe(true);
  });

  it('reopens when the probe fails, and frees the probe on a neutral end', () => {
    const { b, advance } = breaker();
    for (let i = 0; i < 3; i++) b.onFailure('x');
    advance(1000);
    expect(b.tryAcquire()).toBe(true);
    b.onNeutral(); // the caller aborted: says nothing about the backend
    expect(b.tryAcquire()).toBe(true);
    b.onFailure('still down');
    expect(b.snapshot()).toMatchObject({ state: 'open', openedAt: 1000, retryAt: 2000 });
    expect(b.tryAcquire()).toBe(false);
  });
});
