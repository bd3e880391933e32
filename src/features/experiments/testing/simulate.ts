/**
 * Seeded, in-memory traffic for the guardrail rule: units are split by the real assignment hash,
 * each makes a few suggestions with a fallback chance, a shown/accepted/dismissed outcome and a
 * log-normal latency; the job's decision runs after every batch ("a check every step").
 */
import { createAssigner } from '../assignment';
import type { Guardrail, GuardrailMetric, RampStep } from '../config';
import { evaluateExperiment, type ArmData, type Decision } from '../guardrails';
import { addUnit, emptyMoments, type RatioMoments } from '../stats';

export interface ArmBehaviour {
  fallback: number;
  show: number;
  /** P(accepted | shown). */
  accept: number;
  /** P(dismissed | shown and not accepted). */
  dismiss: number;
  latencyMedianMs: number;
  latencySigma: number;
}

export const BASELINE: ArmBehaviour = {
  fallback: 0.05,
  show: 0.8,
  accept: 0.3,
  dismiss: 0.2,
  latencyMedianMs: 120,
  latencySigma: 0.4,
};

/** mulberry32: small, fast, seeded. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface ArmState {
  behaviour: ArmBehaviour;
  units: number;
  /** Per unit counts (index = unit). */
  gens: number[];
  fallbacks: number[];
  shown: number[];
  accepted: number[];
  dismissed: number[];
  /** All latencies, unit by unit; unitEnd[i] is the end of unit i's slice. */
  latencies: number[];
  unitEnd: number[];
}

function newArm(behaviour: ArmBehaviour): ArmState {
  return {
    behaviour,
    units: 0,
    gens: [],
    fallbacks: [],
    shown: [],
    accepted: [],
    dismissed: [],
    latencies: [],
    unitEnd: [],
  };
}

/** The k-th smallest value (0-based) of a copy, by quickselect. */
function kth(values: readonly number[], k: number): number {
  const a = Float64Array.from(values);
  let lo = 0;
  let hi = a.length - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1] as number;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while ((a[i] as number) < pivot) i++;
      while ((a[j] as number) > pivot) j--;
      if (i <= j) {
        const tmp = a[i] as number;
        a[i] = a[j] as number;
        a[j] = tmp;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return a[k] as number;
}

/** Nearest-rank p95 of control's latencies (the job uses PostgreSQL's percentile_cont). */
export function p95(values: readonly number[]): number {
  return kth(values, Math.min(values.length - 1, Math.ceil(0.95 * values.length) - 1));
}

function metricsOf(arm: ArmState, latencyThreshold: number): Record<GuardrailMetric, RatioMoments> {
  const m = {
    fallback_rate: emptyMoments(),
    dismissal_rate: emptyMoments(),
    acceptance_rate: emptyMoments(),
    latency_p95: emptyMoments(),
  };
  let start = 0;
  for (let u = 0; u < arm.units; u++) {
    const g = arm.gens[u] as number;
    const end = arm.unitEnd[u] as number;
    let slow = 0;
    for (let i = start; i < end; i++) if ((arm.latencies[i] as number) > latencyThreshold) slow++;
    start = end;
    addUnit(m.fallback_rate, arm.fallbacks[u] as number, g);
    addUnit(m.latency_p95, slow, g);
    addUnit(m.acceptance_rate, arm.accepted[u] as number, arm.shown[u] as number);
    addUnit(m.dismissal_rate, arm.dismissed[u] as number, arm.shown[u] as number);
  }
  return m;
}

export interface SimulationOptions {
  seed: number;
  control: ArmBehaviour;
  treatment: ArmBehaviour;
  /** New units (both arms together) between two checks. */
  unitsPerCheck: number;
  checks: number;
  guardrails: Guardrail[];
  alpha: number;
}

export interface SimulationResult {
  /** The check (1-based) at which the experiment was rolled back, or null. */
  rolledBackAt: number | null;
  decision: Decision | null;
  /** Checks at which the sample-ratio test held the ramp. */
  srmHolds: number;
  unitsPerArm: [number, number];
}

const RAMP: RampStep[] = [{ coverage: 1, minDurationMinutes: 0, minUnitsPerArm: 0 }];

export function simulate(options: SimulationOptions): SimulationResult {
  const random = seededRandom(options.seed);
  const normal = () => {
    const u = 1 - random();
    const v = random();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
  const assign = createAssigner({ seed: `sim-${options.seed}`, weights: [0.5, 0.5], coverage: 1 });
  const arms = [newArm(options.control), newArm(options.treatment)];
  let unitCounter = 0;
  let srmHolds = 0;
  for (let check = 1; check <= options.checks; check++) {
    for (let i = 0; i < options.unitsPerCheck; i++) {
      const armIndex = assign(`unit-${options.seed}-${unitCounter++}`) as number;
      const arm = arms[armIndex] as ArmState;
      const b = arm.behaviour;
      // 1 + geometric: about 3.5 suggestions per unit, a few heavy units.
      const n = 1 + Math.floor(-Math.log(1 - random()) * 2.5);
      let fallbacks = 0;
      let shown = 0;
      let accepted = 0;
      let dismissed = 0;
      for (let k = 0; k < n; k++) {
        if (random() < b.fallback) fallbacks++;
        if (random() < b.show) {
          shown++;
          if (random() < b.accept) accepted++;
          else if (random() < b.dismiss) dismissed++;
        }
        arm.latencies.push(b.latencyMedianMs * Math.exp(b.latencySigma * normal()));
      }
      arm.gens.push(n);
      arm.fallbacks.push(fallbacks);
      arm.shown.push(shown);
      arm.accepted.push(accepted);
      arm.dismissed.push(dismissed);
      arm.unitEnd.push(arm.latencies.length);
      arm.units++;
    }
    const [control, treatment] = arms as [ArmState, ArmState];
    const threshold = p95(control.latencies);
    const data: ArmData[] = arms.map((arm, i) => ({
      armId: `arm-${i}`,
      name: i === 0 ? 'control' : 'treatment',
      isControl: i === 0,
      weight: 0.5,
      exposures: arm.units,
      metrics: metricsOf(arm, threshold),
    }));
    const { decision } = evaluateExperiment({
      status: 'paused', // no ramp moves in the simulation: only guardrails and SRM
      arms: data,
      guardrails: options.guardrails,
      alpha: options.alpha,
      ramp: RAMP,
      rampStep: 0,
      stepStartedAt: null,
      now: new Date(0),
    });
    if (decision.kind === 'hold') srmHolds++;
    if (decision.kind === 'rollback')
      return {
        rolledBackAt: check,
        decision,
        srmHolds,
        unitsPerArm: [control.units, treatment.units],
      };
  }
  return {
    rolledBackAt: null,
    decision: null,
    srmHolds,
    unitsPerArm: [arms[0]?.units ?? 0, arms[1]?.units ?? 0],
  };
}
