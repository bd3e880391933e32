/**
 * How the closed loop reports itself: per step, what was made and measured, as lines for the
 * terminal and as one JSON summary (the reproducibility check compares two of those).
 */
import type { ArmFigures } from './population';
import type { MetricRow, ResultsRow } from './loop-steps';

export interface StepRecord {
  step: string;
  seconds: number;
  facts: Record<string, unknown>;
}

export interface LoopSummary {
  seed: string;
  mode: 'quick' | 'full';
  behaviourVersion: number;
  patienceScale: number;
  texts: { source: string; licences: string[]; documents: number };
  steps: StepRecord[];
  datasetDigest: string | null;
  modelDigest: string | null;
  decision: string | null;
  decisionWhy: string | null;
  learned: {
    metric: string;
    v1: number | null;
    v2: number | null;
    delta: number | null;
    deltaCi: [number, number] | null;
  }[];
  wallSeconds: number;
}

export const pct = (v: number | null | undefined, digits = 1) =>
  v == null ? '–' : `${(100 * v).toFixed(digits)}%`;
const num = (v: number | null | undefined, digits = 2) => (v == null ? '–' : v.toFixed(digits));
const interval = (ci: [number, number] | null | undefined, f: (v: number) => string) =>
  ci ? ` [${f(ci[0])}, ${f(ci[1])}]` : '';

/** Client-side figures of one phase, one line per model version that answered. */
export function figureLines(byModel: Record<string, ArmFigures>): string[] {
  return Object.entries(byModel).map(
    ([model, f]) =>
      `    ${model.padEnd(30)} ${String(f.requests).padStart(5)} answers, ${String(f.shown).padStart(4)} shown, ` +
      `acceptance ${pct(f.acceptanceRate)}, kept chars/opportunity ${num(f.keptCharsPerOpportunity)}, ` +
      `primary ${pct(f.primaryShare)}, p50 ${num(f.p50Ms, 0)} ms, p95 ${num(f.p95Ms, 0)} ms`,
  );
}

const RATE_METRICS = new Set(['acceptance_rate', 'dismissal_rate', 'fallback_rate', 'latency_p95']);
const show = (m: MetricRow) => (v: number) => (RATE_METRICS.has(m.metric) ? pct(v) : num(v));

/** The experiment's results per arm, each metric with its interval and the delta to control. */
export function resultLines(results: ResultsRow): string[] {
  const lines: string[] = [];
  for (const arm of results.arms) {
    lines.push(
      `    arm ${arm.name} (${arm.modelVersion}${arm.isControl ? ', control' : ''}): ${arm.units} units, ${arm.suggestions} suggestions, ` +
        `latency p50 ${num(arm.latencyP50, 0)} ms, p95 ${num(arm.latencyP95, 0)} ms`,
    );
    for (const m of arm.metrics) {
      const f = show(m);
      const delta =
        m.delta == null
          ? ''
          : `   Δ ${m.delta >= 0 ? '+' : ''}${f(m.delta)}${interval(m.deltaCi, f)}${m.adjustedP == null ? '' : `, Holm p ${m.adjustedP.toPrecision(2)}`}`;
      lines.push(
        `      ${m.label.padEnd(48)} ${m.value == null ? '–' : f(m.value)}${interval(m.ci, f)}${delta}`,
      );
    }
  }
  lines.push(`    verdict: ${results.verdict.decision}: ${results.verdict.why}`);
  return lines;
}

interface RateLike {
  rate: number | null;
  ci95: [number, number] | null;
  n: number;
}
interface MeanLike {
  mean: number | null;
  ci95: [number, number] | null;
  n: number;
}
export interface EvalMetricsLike {
  examples: number;
  exactFirstWord: RateLike;
  exactMatch: RateLike;
  chrf: MeanLike;
  editDistance: MeanLike;
  logLikelihood: { available: boolean; perToken: MeanLike; perplexity: number | null };
  latencyMs: { p50: number | null; p95: number | null };
}

export function evalLines(model: string, m: EvalMetricsLike): string[] {
  const rate = (r: RateLike) => `${pct(r.rate)}${interval(r.ci95, (v) => pct(v))}`;
  const mean = (r: MeanLike, d = 2) => `${num(r.mean, d)}${interval(r.ci95, (v) => num(v, d))}`;
  return [
    `    ${model.padEnd(30)} ${m.examples} examples: first word ${rate(m.exactFirstWord)}, whole ${rate(m.exactMatch)}, ` +
      `chrF ${mean(m.chrf, 1)}, edit distance ${mean(m.editDistance)}, ` +
      `kept-text log-lik/token ${m.logLikelihood.available ? mean(m.logLikelihood.perToken, 3) : 'n/a'}, ` +
      `latency p50 ${num(m.latencyMs.p50, 0)} ms`,
  ];
}

/** v1 against v2 on the experiment's goal metrics, the difference with its 95% interval. */
export function learnedFrom(results: ResultsRow): LoopSummary['learned'] {
  const control = results.arms.find((a) => a.isControl);
  const treatment = results.arms.find((a) => !a.isControl);
  if (!control || !treatment) return [];
  return ['acceptance_rate', 'chars_per_opportunity', 'arc_per_unit'].map((metric) => {
    const v1 = control.metrics.find((m) => m.metric === metric)?.value ?? null;
    const t = treatment.metrics.find((m) => m.metric === metric);
    return {
      metric,
      v1,
      v2: t?.value ?? null,
      delta: t?.delta ?? null,
      deltaCi: t?.deltaCi ?? null,
    };
  });
}
