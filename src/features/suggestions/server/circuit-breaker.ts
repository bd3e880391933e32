/**
 * A circuit breaker per backend: closed → open after `failureThreshold` consecutive failures →
 * half-open after `cooldownMs` (one probe request at a time) → closed on the probe's success, or
 * open again on its failure. A pure state machine: the clock is injected, so tests need no timers.
 */

export type CircuitState = 'closed' | 'open' | 'half_open';

export interface CircuitBreakerOptions {
  failureThreshold: number;
  cooldownMs: number;
  now?: () => number;
}

export interface CircuitSnapshot {
  state: CircuitState;
  consecutiveFailures: number;
  openedAt: number | null;
  /** When an open circuit lets its next probe through. */
  retryAt: number | null;
  lastError: string | null;
  totalFailures: number;
  totalSuccesses: number;
}

export class CircuitBreaker {
  private state: CircuitState = 'closed';
  private failures = 0;
  private openedAt: number | null = null;
  private probeInFlight = false;
  private lastError: string | null = null;
  private totalFailures = 0;
  private totalSuccesses = 0;
  private readonly now: () => number;

  constructor(private readonly options: CircuitBreakerOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Whether a request may go out now; in half-open, the caller that gets `true` is the probe. */
  tryAcquire(): boolean {
    if (this.state === 'closed') return true;
    if (this.state === 'open') {
      if (this.now() < (this.openedAt ?? 0) + this.options.cooldownMs) return false;
      this.state = 'half_open';
      this.probeInFlight = false;
    }
    if (this.probeInFlight) return false;
    this.probeInFlight = true;
    return true;
  }

  /** Would `tryAcquire` let a request through (without claiming the probe)? For routing. */
  isAvailable(): boolean {
    if (this.state === 'closed') return true;
    if (this.state === 'open') return this.now() >= (this.openedAt ?? 0) + this.options.cooldownMs;
    return !this.probeInFlight;
  }

  onSuccess(): void {
    this.totalSuccesses++;
    this.failures = 0;
    this.state = 'closed';
    this.openedAt = null;
    this.probeInFlight = false;
  }

  onFailure(error: string): void {
    this.totalFailures++;
    this.failures++;
    this.lastError = error;
    if (this.state === 'half_open' || this.failures >= this.options.failureThreshold) {
      this.state = 'open';
      this.openedAt = this.now();
    }
    this.probeInFlight = false;
  }

  /** A request that ended without telling anything about the backend (the caller aborted). */
  onNeutral(): void {
    this.probeInFlight = false;
  }

  snapshot(): CircuitSnapshot {
    const open = this.state === 'open' && this.openedAt !== null;
    return {
      state: this.state,
      consecutiveFailures: this.failures,
      openedAt: this.openedAt,
      retryAt: open ? (this.openedAt ?? 0) + this.options.cooldownMs : null,
      lastError: this.lastError,
      totalFailures: this.totalFailures,
      totalSuccesses: this.totalSuccesses,
    };
  }
}
