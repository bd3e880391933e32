/**
 * A run's metrics from its examples' results. Pure and seeded: the same results and seed give the
 * same numbers (latency aside, which is measured). Stored as `EvalRun.metrics`.
 */
import { EVAL_TIERS, type EvalTier } from './config';
import {
  bootstrapMean,
  bootstrapRatio,
  latencySummary,
  rateSummary,
  seedOf,
  type LatencySummary,
  type MeanSummary,
  type RateSummary,
} from './summary';

export interface ExampleResult {
  key: string;
  prompt: string;
  kept: string;
  candidate: string;
  firstWordMatch: boolean;
  exactMatch: boolean;
  chrf: number;
  editDistance: number;
  latencyMs: number;
  ttftMs: number | null;
  tier: EvalTier;
  backend: string;
  /** Log-likelihood of the kept text; null when the backend could not give it for this example. */
  logLikelihood: { total: number; tokens: number } | null;
}

export interface EvalMetrics {
  examples: number;
  exactFirstWord: RateSummary;
  exactMatch: RateSummary;
  /** chrF (0–100) against the kept text. */
  chrf: MeanSummary;
  /** Normalized edit distance to the kept text (0 = same). */
  editDistance: MeanSummary;
  logLikelihood: {
    available: boolean;
    /** Why some or all examples have none (first reason seen). */
    reason: string | null;
    examples: number;
    tokens: number;
    /** Σ log p / Σ tokens over the examples that have it (nats per token). */
    perToken: MeanSummary;
    /** Mean of each example's total log-likelihood of its kept text. */
    perExample: MeanSummary;
    /** exp(−perToken): the kept text's perplexity under the candidate. */
    perplexity: number | null;
  };
  latencyMs: LatencySummary;
  ttftMs: LatencySummary;
  /** primary: answered within the feature's latency budget; over_budget: answered later (the
   * gateway would have served a fallback); empty: nothing to show. */
  tiers: Record<EvalTier, number>;
  backends: Record<string, number>;
  /** The first examples in sample order, to read what was compared (prompts cut to their end). */
  samples: {
    key: string;
    prompt: string;
    kept: string;
    candidate: string;
    chrf: number;
    logLikelihood: number | null;
  }[];
}

export const SAMPLES_KEPT = 10;
const PROMPT_TAIL = 200;

export function computeMetrics(
  results: readonly ExampleResult[],
  seed: string,
  logLikelihoodReason: string | null,
): EvalMetrics {
  const withLl = results.filter((r) => r.logLikelihood !== null);
  const totals = withLl.map((r) => r.logLikelihood!.total);
  const tokens = withLl.map((r) => r.logLikelihood!.tokens);
  const perToken = bootstrapRatio(totals, tokens, seedOf(seed, 'logLikelihood.perToken'));
  const tiers = Object.fromEntries(EVAL_TIERS.map((t) => [t, 0])) as Record<EvalTier, number>;
  const backends: Record<string, number> = {};
  for (const r of results) {
    tiers[r.tier] += 1;
    backends[r.backend] = (backends[r.backend] ?? 0) + 1;
  }
  return {
    examples: results.length,
    exactFirstWord: rateSummary(results.map((r) => r.firstWordMatch)),
    exactMatch: rateSummary(results.map((r) => r.exactMatch)),
    chrf: bootstrapMean(
      results.map((r) => r.chrf),
      seedOf(seed, 'chrf'),
    ),
    editDistance: bootstrapMean(
      results.map((r) => r.editDistance),
      seedOf(seed, 'editDistance'),
    ),
    logLikelihood: {
      available: withLl.length > 0,
      reason: withLl.length === results.length ? null : logLikelihoodReason,
      examples: withLl.length,
      tokens: tokens.reduce((a, b) => a + b, 0),
      perToken,
      perExample: bootstrapMean(totals, seedOf(seed, 'logLikelihood.perExample')),
      perplexity: perToken.mean === null ? null : Math.exp(-perToken.mean),
    },
    latencyMs: latencySummary(results.map((r) => r.latencyMs)),
    ttftMs: latencySummary(results.flatMap((r) => (r.ttftMs === null ? [] : [r.ttftMs]))),
    tiers,
    backends,
    samples: results.slice(0, SAMPLES_KEPT).map((r) => ({
      key: r.key,
      prompt: r.prompt.length > PROMPT_TAIL ? `…${r.prompt.slice(-PROMPT_TAIL)}` : r.prompt,
      kept: r.kept,
      candidate: r.candidate,
      chrf: r.chrf,
      logLikelihood: r.logLikelihood?.total ?? null,
    })),
  };
}
