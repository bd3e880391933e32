/**
 * The guardrail decision for one live experiment, as a pure function of its configuration and the
 * per-arm data the job has read (so the simulations in the tests run the very rule the job runs).
 *
 * Order: a crossed guardrail rolls back; otherwise a sample-ratio mismatch holds the ramp (pause);
 * otherwise a running experiment whose step has lasted long enough and reached its sample moves to
 * the next step; otherwise nothing changes.
 */
import type { Guardrail, GuardrailMetric, RampStep } from './config';
import { GUARDRAIL_INFO } from './config';
import { srmTest, testGuardrail, type RatioMoments, type SrmResult } from './stats';

/** p below which the sample-ratio check holds the ramp (GrowthBook, PostHog, Eppo, Statsig). */
export const SRM_P_THRESHOLD = 0.001;
/** Exposed units (all arms) before the sample-ratio check runs. */
export const SRM_MIN_UNITS = 100;

export interface ArmData {
  armId: string;
  name: string;
  isControl: boolean;
  weight: number;
  /** Units exposed (Assignment rows). */
  exposures: number;
  metrics: Record<GuardrailMetric, RatioMoments>;
}

export interface GuardrailCheck {
  metric: GuardrailMetric;
  armId: string;
  arm: string;
  status: 'ok' | 'failed' | 'waiting';
  estimate: number | null;
  bound: number | null;
  margin: number;
  nControl: number;
  nTreatment: number;
  /** This test's share of the error budget. */
  alpha: number;
}

export type Decision =
  | { kind: 'rollback'; check: GuardrailCheck }
  | { kind: 'hold'; srm: SrmResult }
  | { kind: 'advance'; toStep: number }
  | { kind: 'continue'; note: string };

export interface Evaluation {
  decision: Decision;
  checks: GuardrailCheck[];
  srm: SrmResult | null;
}

export interface EvaluationInput {
  status: 'running' | 'paused';
  arms: ArmData[];
  guardrails: Guardrail[];
  /** Error budget for all guardrail tests together (Bonferroni over metrics × treatment arms). */
  alpha: number;
  ramp: RampStep[];
  rampStep: number;
  stepStartedAt: Date | null;
  now: Date;
  tuning?: number;
}

export function evaluateExperiment(input: EvaluationInput): Evaluation {
  const control = input.arms.find((a) => a.isControl);
  if (!control) throw new Error('An experiment without a control arm cannot be evaluated');
  const treatments = input.arms.filter((a) => !a.isControl);
  const tests = Math.max(1, input.guardrails.length * treatments.length);
  const alpha = input.alpha / tests;

  const checks: GuardrailCheck[] = [];
  for (const arm of treatments) {
    for (const g of input.guardrails) {
      const c = control.metrics[g.metric];
      const t = arm.metrics[g.metric];
      const base = {
        metric: g.metric,
        armId: arm.armId,
        arm: arm.name,
        margin: g.margin,
        nControl: c.n,
        nTreatment: t.n,
        alpha,
      };
      if (c.n < g.minUnits || t.n < g.minUnits) {
        checks.push({ ...base, status: 'waiting', estimate: null, bound: null });
        continue;
      }
      const result = testGuardrail(c, t, {
        worse: GUARDRAIL_INFO[g.metric].worse,
        margin: g.margin,
        alpha,
        tuning: input.tuning,
      });
      checks.push({
        ...base,
        status: result === null ? 'waiting' : result.failed ? 'failed' : 'ok',
        estimate: result?.estimate ?? null,
        bound: result?.bound ?? null,
      });
    }
  }

  const exposures = input.arms.map((a) => a.exposures);
  const total = exposures.reduce((a, b) => a + b, 0);
  const srm =
    total >= SRM_MIN_UNITS
      ? srmTest(
          exposures,
          input.arms.map((a) => a.weight),
        )
      : null;

  const failed = checks.find((c) => c.status === 'failed');
  if (failed) return { decision: { kind: 'rollback', check: failed }, checks, srm };
  if (srm && srm.pValue < SRM_P_THRESHOLD) return { decision: { kind: 'hold', srm }, checks, srm };
  if (input.status !== 'running')
    return { decision: { kind: 'continue', note: 'paused: the ramp waits' }, checks, srm };
  const next = input.rampStep + 1;
  if (next >= input.ramp.length)
    return { decision: { kind: 'continue', note: 'at the last ramp step' }, checks, srm };
  const step = input.ramp[input.rampStep] as RampStep;
  const ranMinutes = input.stepStartedAt
    ? (input.now.getTime() - input.stepStartedAt.getTime()) / 60_000
    : 0;
  if (ranMinutes < step.minDurationMinutes)
    return {
      decision: {
        kind: 'continue',
        note: `step ${input.rampStep + 1} has run ${Math.floor(ranMinutes)} of ${step.minDurationMinutes} minutes`,
      },
      checks,
      srm,
    };
  const smallest = Math.min(...input.arms.map((a) => a.exposures));
  const here = `step ${input.rampStep + 1}`;
  // The notes name what is counted and where each arm stands: the console shows them as the reason.
  if (smallest < step.minUnitsPerArm)
    return {
      decision: {
        kind: 'continue',
        note: `${here} waits for ${step.minUnitsPerArm} exposed units per arm (${input.arms
          .map((a) => `${a.name}: ${a.exposures}`)
          .join(', ')})`,
      },
      checks,
      srm,
    };
  // Every guardrail must have been tested (none still waiting for its sample) before ramping up.
  const waiting = checks.filter((c) => c.status === 'waiting');
  if (waiting.length > 0)
    return {
      decision: {
        kind: 'continue',
        note: `${here} waits for guardrails without their minimum sample: ${waiting
          .map((c) => {
            const min = input.guardrails.find((g) => g.metric === c.metric)?.minUnits;
            return `${GUARDRAIL_INFO[c.metric].label} of "${c.arm}" (n ${c.nControl} / ${c.nTreatment} of ${min})`;
          })
          .join('; ')}`,
      },
      checks,
      srm,
    };
  return { decision: { kind: 'advance', toStep: next }, checks, srm };
}

/** One line for the audit log and the console. */
export function describeRollback(check: GuardrailCheck): string {
  const info = GUARDRAIL_INFO[check.metric];
  const fmt = (v: number | null) => (v === null ? '–' : v.toFixed(4));
  return `${info.label} of arm "${check.arm}" is worse than control: difference ${fmt(check.estimate)}, one-sided bound ${fmt(check.bound)} crossed margin ${check.margin} (n control ${check.nControl}, n treatment ${check.nTreatment}, α ${check.alpha.toPrecision(3)})`;
}
