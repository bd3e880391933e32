/**
 * Results a product team can act on: per arm, each metric with a 95% interval (ratio metrics by
 * the delta method: the unit is the user, the metric is per suggestion), each treatment against
 * control with Holm-adjusted p-values over the goal metrics, and a one-line verdict.
 */
import type { Db } from '~/server/db';
import { GUARDRAIL_INFO } from '../config';
import type { GuardrailCheck } from '../guardrails';
import { compare, cuped, fixedHalfWidth, holm, ratioEstimate, type RatioEstimate } from '../stats';
import { readArmData, readCupedUnits, type MetricName } from './experiment-metrics';
import { getExperiment, type ExperimentView } from './experiments-service';
import { foldExperimentQueue } from './unit-rollup';

export type ResultMetric = MetricName | 'acceptance_cuped';

export const RESULT_METRICS: {
  name: ResultMetric;
  label: string;
  goal: boolean;
  better: 'higher' | 'lower';
}[] = [
  { name: 'acceptance_rate', label: 'Acceptance rate', goal: true, better: 'higher' },
  {
    name: 'acceptance_cuped',
    label: 'Acceptance per unit (CUPED, 14-day pre-period)',
    goal: true,
    better: 'higher',
  },
  {
    name: 'arc_per_unit',
    label: 'Accepted & retained chars (2 min) per unit',
    goal: true,
    better: 'higher',
  },
  {
    name: 'chars_per_opportunity',
    label: 'Retained chars per shown suggestion',
    goal: true,
    better: 'higher',
  },
  { name: 'dismissal_rate', label: 'Dismissal rate', goal: false, better: 'lower' },
  { name: 'fallback_rate', label: 'Fallback or error rate', goal: false, better: 'lower' },
  { name: 'latency_p95', label: "Share slower than control's p95", goal: false, better: 'lower' },
];

export interface MetricResult {
  metric: ResultMetric;
  label: string;
  goal: boolean;
  value: number | null;
  ci: [number, number] | null;
  n: number;
  /** Against control (treatments only). */
  delta: number | null;
  deltaCi: [number, number] | null;
  pValue: number | null;
  /** Holm-adjusted over goal metrics × treatments. */
  adjustedP: number | null;
}

export interface ArmResult {
  armId: string;
  name: string;
  isControl: boolean;
  modelVersion: string;
  exposures: number;
  units: number;
  suggestions: number;
  latencyP50: number | null;
  latencyP95: number | null;
  metrics: MetricResult[];
}

export interface ExperimentResults {
  experiment: ExperimentView;
  arms: ArmResult[];
  verdict: { decision: 'ship' | 'roll back' | 'keep running'; why: string };
  /** CUPED on per-unit acceptance: θ, units with a pre-period, and the variance it removed. */
  cuped: { theta: number; unitsWithPrePeriod: number; varianceReduction: number | null };
}

/**
 * CUPED on each unit's acceptance with its pre-period acceptance as covariate (units without a
 * pre-period get the pooled pre-period mean, so they are left unadjusted). Also the same estimate
 * without adjustment, to report the variance removed.
 */
async function cupedAcceptance(db: Db, experiment: ExperimentView) {
  const units = await readCupedUnits(db, experiment.id, experiment.featureId);
  const withPre = units.filter((u) => u.x !== null);
  const pooled = withPre.length
    ? withPre.reduce((s, u) => s + (u.x as number), 0) / withPre.length
    : 0;
  const byArm = experiment.arms.map((arm) => {
    const mine = units.filter((u) => u.armId === arm.id);
    return { y: mine.map((u) => u.y), x: mine.map((u) => u.x ?? pooled) };
  });
  const adjusted = cuped(byArm);
  const raw = cuped(byArm.map((a) => ({ y: a.y, x: a.y.map(() => 0) })));
  const control = experiment.arms.findIndex((a) => a.isControl);
  const rawVar = raw.arms[control]?.variance ?? NaN;
  const adjVar = adjusted.arms[control]?.variance ?? NaN;
  return {
    estimates: new Map(experiment.arms.map((a, i) => [a.id, adjusted.arms[i] as RatioEstimate])),
    summary: {
      theta: adjusted.theta,
      unitsWithPrePeriod: withPre.length,
      varianceReduction: rawVar > 0 && Number.isFinite(adjVar) ? 1 - adjVar / rawVar : null,
    },
  };
}

const finite = (v: number) => (Number.isFinite(v) ? v : null);

export async function experimentResults(db: Db, id: string): Promise<ExperimentResults> {
  const experiment = await getExperiment(db, id);
  // Fresh numbers: fold what is queued (skipped when another instance is folding right now).
  await foldExperimentQueue(db).catch((error: unknown) =>
    console.error('experiments: fold before results failed:', error),
  );
  const readings = await readArmData(db, id, experiment.arms);
  const adjusted = await cupedAcceptance(db, experiment);
  const estimateOf = (armId: string, metric: ResultMetric, reading: (typeof readings)[number]) =>
    metric === 'acceptance_cuped'
      ? (adjusted.estimates.get(armId) ?? { mean: NaN, variance: NaN, n: 0 })
      : ratioEstimate(reading.metrics[metric]);
  const control = experiment.arms.find((a) => a.isControl)!;
  const controlReading = readings.find((r) => r.armId === control.id)!;

  const arms: ArmResult[] = experiment.arms.map((arm) => {
    const r = readings.find((x) => x.armId === arm.id)!;
    return {
      armId: arm.id,
      name: arm.name,
      isControl: arm.isControl,
      modelVersion: arm.modelVersion.label,
      exposures: r.exposures,
      units: r.units,
      suggestions: r.suggestions,
      latencyP50: r.latencyP50,
      latencyP95: r.latencyP95,
      metrics: RESULT_METRICS.map((m) => {
        const est = estimateOf(arm.id, m.name, r);
        const value = finite(est.mean);
        const hw = Number.isFinite(est.variance) ? fixedHalfWidth(est.variance, 0.05) : NaN;
        const cmp = arm.isControl
          ? null
          : compare(estimateOf(control.id, m.name, controlReading), est);
        return {
          metric: m.name,
          label: m.label,
          goal: m.goal,
          value,
          ci: value !== null && Number.isFinite(hw) ? [value - hw, value + hw] : null,
          n: est.n,
          delta: cmp ? cmp.delta : null,
          deltaCi: cmp ? cmp.ci : null,
          pValue: cmp ? cmp.pValue : null,
          adjustedP: null,
        };
      }),
    };
  });

  // Holm over goal metrics × treatments.
  const family = arms
    .filter((a) => !a.isControl)
    .flatMap((a) => a.metrics.filter((m) => m.goal && m.pValue !== null));
  holm(family.map((m) => m.pValue as number)).forEach((p, i) => {
    (family[i] as MetricResult).adjustedP = p;
  });

  return { experiment, arms, verdict: verdictOf(experiment, arms), cuped: adjusted.summary };
}

function verdictOf(experiment: ExperimentView, arms: ArmResult[]): ExperimentResults['verdict'] {
  if (experiment.status === 'rolled_back')
    return {
      decision: 'roll back',
      why: experiment.statusReason ?? 'The experiment was rolled back',
    };
  const checks = (experiment.lastCheck as { checks?: GuardrailCheck[] } | null)?.checks ?? [];
  const failed = checks.find((c) => c.status === 'failed');
  if (failed)
    return {
      decision: 'roll back',
      why: `${GUARDRAIL_INFO[failed.metric].label} is worse on "${failed.arm}"`,
    };
  const treatments = arms.filter((a) => !a.isControl);
  const better = RESULT_METRICS.reduce<Record<string, 'higher' | 'lower'>>(
    (acc, m) => ({ ...acc, [m.name]: m.better }),
    {},
  );
  const significant = (m: MetricResult) => m.adjustedP !== null && m.adjustedP < 0.05;
  const improves = (m: MetricResult) =>
    m.delta !== null && (better[m.metric] === 'higher' ? m.delta > 0 : m.delta < 0);
  for (const arm of treatments) {
    const worse = arm.metrics.find((m) => m.goal && significant(m) && !improves(m));
    if (worse)
      return {
        decision: 'roll back',
        why: `${worse.label} is lower on "${arm.name}" (Holm p ${worse.adjustedP?.toPrecision(2)})`,
      };
  }
  const winners = treatments.filter((arm) =>
    arm.metrics.some((m) => m.goal && significant(m) && improves(m)),
  );
  if (winners.length > 0) {
    const best = winners[0] as ArmResult;
    const m = best.metrics.find((x) => x.goal && significant(x) && improves(x)) as MetricResult;
    const pending = checks.some((c) => c.status === 'waiting');
    return {
      decision: pending ? 'keep running' : 'ship',
      why: pending
        ? `"${best.name}" wins on ${m.label.toLowerCase()}, but some guardrails still wait for their minimum sample`
        : `"${best.name}" wins on ${m.label.toLowerCase()} (Holm p ${m.adjustedP?.toPrecision(2)}) and every guardrail holds`,
    };
  }
  const units = arms.reduce((s, a) => s + a.units, 0);
  return {
    decision: 'keep running',
    why: `No goal metric differs significantly yet (${units} units with suggestions)`,
  };
}
