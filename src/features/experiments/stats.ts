/**
 * Statistics for experiments: pure functions, no I/O (shared by the guardrail job, the results
 * page and the simulations in the tests). Distributions come from stdlib, not from here.
 *
 * The unit of randomization is the unit (user); most metrics are per suggestion, so each arm's
 * metric is a ratio of per-unit sums (Σx / Σy) and its variance comes from the delta method over
 * the unit-level moments.
 */
import chisquareCdf from '@stdlib/stats-base-dists-chisquare-cdf';
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';

/** Unit-level sums of one arm for a ratio metric: x (numerator) and y (denominator) per unit. */
export interface RatioMoments {
  /** Units with y > 0 (units with no denominator contribute nothing). */
  n: number;
  sumX: number;
  sumY: number;
  sumXX: number;
  sumYY: number;
  sumXY: number;
}

export const emptyMoments = (): RatioMoments => ({
  n: 0,
  sumX: 0,
  sumY: 0,
  sumXX: 0,
  sumYY: 0,
  sumXY: 0,
});

export function addUnit(m: RatioMoments, x: number, y: number): void {
  if (y <= 0) return;
  m.n += 1;
  m.sumX += x;
  m.sumY += y;
  m.sumXX += x * x;
  m.sumYY += y * y;
  m.sumXY += x * y;
}

export interface RatioEstimate {
  /** Σx / Σy; NaN without data. */
  mean: number;
  /** Variance of the estimate (delta method); NaN below two units. */
  variance: number;
  n: number;
}

/**
 * R = Σx/Σy and Var(R) ≈ (1/n)(s²ₓ/μᵧ² − 2μₓsₓᵧ/μᵧ³ + μₓ²s²ᵧ/μᵧ⁴) with sample (co)variances.
 * When every unit has y = 1 this is the usual mean and s²/n.
 */
export function ratioEstimate(m: RatioMoments): RatioEstimate {
  const { n } = m;
  if (n === 0 || m.sumY === 0) return { mean: NaN, variance: NaN, n };
  const mx = m.sumX / n;
  const my = m.sumY / n;
  const mean = mx / my;
  if (n < 2) return { mean, variance: NaN, n };
  const vx = (m.sumXX - n * mx * mx) / (n - 1);
  const vy = (m.sumYY - n * my * my) / (n - 1);
  const cxy = (m.sumXY - n * mx * my) / (n - 1);
  const variance = Math.max(
    0,
    (vx / my ** 2 - (2 * mx * cxy) / my ** 3 + (mx ** 2 * vy) / my ** 4) / n,
  );
  return { mean, variance, n };
}

// ─── Sequential testing (asymptotic confidence sequences) ──────────────────────────
//
// Waudby-Smith, Arbour, Sinha, Kennedy, Ramdas, "Time-uniform central limit theory and asymptotic
// confidence sequences" (arXiv 2103.06476), as GrowthBook and PostHog use them. With N the total
// sample size, s² = N·Var(Δ̂) and ρ tuned so the sequence is tightest at N = N*:
//   two-sided half-width  √(s²·2(Nρ²+1)/(N²ρ²)·ln(√(Nρ²+1)/α))                      (eq. 9)
//   one-sided half-width  √(s²·2(Nρ²+1)/(N²ρ²)·ln(1 + √(Nρ²+1)/(2α)))                (eq. 134)
//   ρ = √((−2 ln a + ln(−2 ln a + 1)) / N*), a = α two-sided, 2α one-sided.
// The bound holds at every N simultaneously, so the job may look after every new batch.

/** GrowthBook's default tuning parameter N*. */
export const DEFAULT_TUNING = 5000;

export function sequentialRho(alpha: number, tuning: number, oneSided: boolean): number {
  const a = oneSided ? 2 * alpha : alpha;
  return Math.sqrt((-2 * Math.log(a) + Math.log(-2 * Math.log(a) + 1)) / tuning);
}

/** Half-width of the asymptotic confidence sequence for an estimate with `variance` at size `n`. */
export function sequentialHalfWidth(
  variance: number,
  n: number,
  alpha: number,
  options: { oneSided: boolean; tuning?: number },
): number {
  const rho = sequentialRho(alpha, options.tuning ?? DEFAULT_TUNING, options.oneSided);
  const s2 = variance * n;
  const nr2 = n * rho * rho;
  const scale = (2 * (nr2 + 1)) / (nr2 * n);
  const log = options.oneSided
    ? Math.log(1 + Math.sqrt(nr2 + 1) / (2 * alpha))
    : Math.log(Math.sqrt(nr2 + 1) / alpha);
  return Math.sqrt(s2 * scale * log);
}

/** Fixed-horizon two-sided normal half-width (for comparisons and the results page). */
export function fixedHalfWidth(variance: number, alpha: number): number {
  return normalQuantile(1 - alpha / 2, 0, 1) * Math.sqrt(variance);
}

// ─── Guardrails ────────────────────────────────────────────────────────────────────

/** Which way a guardrail metric gets worse. */
export type Worse = 'higher' | 'lower';

export interface GuardrailTest {
  /** Treatment − control (absolute difference of the ratios). */
  estimate: number;
  /** The one-sided confidence-sequence bound on the side of harm. */
  bound: number;
  /** True when the bound has crossed the tolerated margin: the treatment is worse. */
  failed: boolean;
  nControl: number;
  nTreatment: number;
}

/**
 * One-sided sequential test of harm: fails when the whole confidence sequence lies beyond the
 * tolerated `margin` on the harmful side (Δ − hw > margin for "higher is worse", Δ + hw < −margin
 * for "lower is worse"). `alpha` is this test's share of the error budget.
 */
export function testGuardrail(
  control: RatioMoments,
  treatment: RatioMoments,
  options: { worse: Worse; margin: number; alpha: number; tuning?: number },
): GuardrailTest | null {
  const c = ratioEstimate(control);
  const t = ratioEstimate(treatment);
  if (!Number.isFinite(c.variance) || !Number.isFinite(t.variance)) return null;
  const estimate = t.mean - c.mean;
  const variance = c.variance + t.variance;
  const n = c.n + t.n;
  const hw = sequentialHalfWidth(variance, n, options.alpha, {
    oneSided: true,
    tuning: options.tuning,
  });
  const bound = options.worse === 'higher' ? estimate - hw : estimate + hw;
  const failed = options.worse === 'higher' ? bound > options.margin : bound < -options.margin;
  return { estimate, bound, failed, nControl: c.n, nTreatment: t.n };
}

// ─── Sample-ratio mismatch ─────────────────────────────────────────────────────────

export interface SrmResult {
  chi2: number;
  df: number;
  pValue: number;
}

/** Pearson χ² of observed unit counts against the configured weights (zero-weight arms skipped). */
export function srmTest(counts: readonly number[], weights: readonly number[]): SrmResult {
  const total = counts.reduce((a, b) => a + b, 0);
  let chi2 = 0;
  let df = -1;
  for (let i = 0; i < counts.length; i++) {
    const w = weights[i] ?? 0;
    if (w <= 0) continue;
    const expected = w * total;
    chi2 += ((counts[i] ?? 0) - expected) ** 2 / expected;
    df++;
  }
  if (df < 1 || total === 0) return { chi2: 0, df: Math.max(df, 0), pValue: 1 };
  return { chi2, df, pValue: 1 - chisquareCdf(chi2, df) };
}

// ─── Results (fixed horizon, for reading) ──────────────────────────────────────────

export interface Comparison {
  /** Treatment − control. */
  delta: number;
  ci: [number, number];
  pValue: number;
}

/** Two-sided z comparison of two ratio estimates. */
export function compare(c: RatioEstimate, t: RatioEstimate, alpha = 0.05): Comparison | null {
  if (!Number.isFinite(c.variance) || !Number.isFinite(t.variance)) return null;
  const delta = t.mean - c.mean;
  const variance = c.variance + t.variance;
  if (variance === 0) return { delta, ci: [delta, delta], pValue: delta === 0 ? 1 : 0 };
  const hw = fixedHalfWidth(variance, alpha);
  const z = Math.abs(delta) / Math.sqrt(variance);
  return { delta, ci: [delta - hw, delta + hw], pValue: 2 * (1 - normalCdf(z, 0, 1)) };
}

/** Holm–Bonferroni adjusted p-values (same order as the input). */
export function holm(pValues: readonly number[]): number[] {
  const order = pValues.map((p, i) => ({ p, i })).sort((a, b) => a.p - b.p);
  const adjusted = new Array<number>(pValues.length);
  let running = 0;
  order.forEach(({ p, i }, rank) => {
    running = Math.max(running, Math.min(1, (pValues.length - rank) * p));
    adjusted[i] = running;
  });
  return adjusted;
}

/**
 * CUPED: θ = Cov(Y, X)/Var(X) pooled over arms, per-arm adjusted mean Ȳ − θ(X̄ − X̄_pooled) and
 * variance (Var(Y) + θ²Var(X) − 2θCov(Y, X))/n. Input: per unit, the metric y and its pre-period
 * covariate x, grouped by arm.
 */
export function cuped(arms: readonly { y: readonly number[]; x: readonly number[] }[]): {
  theta: number;
  arms: RatioEstimate[];
} {
  let n = 0;
  let sx = 0;
  let sy = 0;
  for (const a of arms) {
    n += a.y.length;
    for (let i = 0; i < a.y.length; i++) {
      sx += a.x[i] ?? 0;
      sy += a.y[i] ?? 0;
    }
  }
  const mxAll = n ? sx / n : 0;
  const myAll = n ? sy / n : 0;
  let cov = 0;
  let vx = 0;
  for (const a of arms) {
    for (let i = 0; i < a.y.length; i++) {
      const dx = (a.x[i] ?? 0) - mxAll;
      cov += dx * ((a.y[i] ?? 0) - myAll);
      vx += dx * dx;
    }
  }
  const theta = vx > 0 ? cov / vx : 0;
  return {
    theta,
    arms: arms.map((a) => {
      const k = a.y.length;
      if (k < 2) return { mean: NaN, variance: NaN, n: k };
      let my = 0;
      let mx = 0;
      for (let i = 0; i < k; i++) {
        my += a.y[i] ?? 0;
        mx += a.x[i] ?? 0;
      }
      my /= k;
      mx /= k;
      let syy = 0;
      let sxx = 0;
      let sxy = 0;
      for (let i = 0; i < k; i++) {
        const dy = (a.y[i] ?? 0) - my;
        const dx = (a.x[i] ?? 0) - mx;
        syy += dy * dy;
        sxx += dx * dx;
        sxy += dx * dy;
      }
      const variance = Math.max(0, (syy + theta * theta * sxx - 2 * theta * sxy) / (k - 1) / k);
      return { mean: my - theta * (mx - mxAll), variance, n: k };
    }),
  };
}
