/**
 * What an offline eval run is asked for, and the config it records. No I/O here, so the console
 * form can import it. A run's result is a function of its recorded config (and the candidate).
 */
import { z } from 'zod';

/** Bumped whenever the same config would score differently (sampling, params, metric code). */
export const EVAL_CODE_VERSION = 1;
export const MAX_SAMPLE = 5_000;
export const DEFAULT_FEATURE = 'inline-completion';

export const evalRequestSchema = z
  .strictObject({
    /** `name/version`, a bare name (its newest version), or a ModelVersion id. */
    model: z.string().trim().min(1, 'Name the candidate model version').max(200),
    /** A dataset version (id, or `name@version`): its eval split. Absent: stored generations. */
    dataset: z.string().trim().min(1).max(200).optional(),
    /** Which feature's generations and params (without a dataset: default inline-completion). */
    featureId: z.string().trim().min(1).max(100).optional(),
    /** Without a dataset: only generations made at or after `from` and before `to`. */
    from: z.iso.datetime({ offset: true, message: 'from must be an ISO-8601 time' }).optional(),
    to: z.iso.datetime({ offset: true, message: 'to must be an ISO-8601 time' }).optional(),
    sample: z
      .number({ message: 'sample must be a whole number of examples' })
      .int('sample must be a whole number of examples')
      .min(1, 'sample must be at least 1')
      .max(MAX_SAMPLE, `sample must be at most ${MAX_SAMPLE}`),
    seed: z.string().trim().min(1).max(100).default('1'),
    /** Per backend call; the eval waits longer than the feature's latency budget, and says when it was over. */
    timeoutMs: z.number().int().min(100).max(600_000).default(30_000),
  })
  .refine((r) => !r.from || !r.to || Date.parse(r.from) < Date.parse(r.to), {
    message: '`from` must be before `to`',
    path: ['from'],
  })
  .refine((r) => !r.dataset || (!r.from && !r.to), {
    message: 'A dataset version fixes its rows: `from` and `to` apply to stored generations only',
    path: ['dataset'],
  });
export type EvalRequest = z.infer<typeof evalRequestSchema>;
export type EvalRequestInput = z.input<typeof evalRequestSchema>;

export type EvalSource =
  | {
      kind: 'dataset';
      datasetVersionId: string;
      dataset: string;
      version: number;
      format: string;
      contentDigest: string;
      split: 'eval';
    }
  | {
      kind: 'generations';
      /** Generations made at or after this time (optional). */
      from: string | null;
      /** Only generations and feedback stored before here are read, so a rerun samples the same. */
      watermark: string;
    };

export interface EvalConfig {
  schema: 'flywheel.eval/v1';
  model: { id: string; name: string; version: string; backendModel: string };
  featureId: string;
  source: EvalSource;
  sampleSize: number;
  seed: string;
  /** What the candidate is asked with: the feature's own params (as the gateway sends them). */
  params: {
    maxTokens: number;
    stop: string[];
    temperature: number;
    stopAtSentenceEnd: boolean;
    latencyBudgetMs: number;
    timeoutMs: number;
    featureConfigHash: string;
  };
  /** How the kept text's log-likelihood is asked for (legacy completions, echoed prompt). */
  logLikelihood: { echo: true; logprobs: 0; max_tokens: 0 };
  code: { evalVersion: number };
}

export const EVAL_STATUSES = ['queued', 'running', 'succeeded', 'failed'] as const;
export type EvalStatus = (typeof EVAL_STATUSES)[number];

/** Tiers as the gateway would have served the candidate's answer (see run-metrics.ts). */
export const EVAL_TIERS = ['primary', 'over_budget', 'empty'] as const;
export type EvalTier = (typeof EVAL_TIERS)[number];
