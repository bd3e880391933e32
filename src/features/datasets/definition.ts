import { z } from 'zod';
import { OUTCOME_PRECEDENCE } from '~/features/feedback/metrics';

/**
 * What a dataset is built from. No I/O here, so the console form can import it. A version is a
 * pure function of this definition and a snapshot watermark (DESIGN.md principle 3).
 */

export const DATASET_FORMATS = [
  'prompt-completion',
  'preference',
  'unpaired-preference',
  'prompt-only',
] as const;
export type DatasetFormat = (typeof DATASET_FORMATS)[number];

/** Outcomes a row may be selected by (the decision the person made on a shown suggestion). */
export const DATASET_OUTCOMES = OUTCOME_PRECEDENCE;
export type DatasetOutcome = (typeof DATASET_OUTCOMES)[number];

/** Bumped whenever the same definition and watermark would give other bytes. */
export const DATASET_BUILDER_VERSION = 1;

const isoDate = z.iso.datetime({ offset: true }).transform((v) => new Date(v).toISOString());

export const qualityGatesSchema = z
  .object({
    /** Drop rows whose normalized prompt and target were already kept. */
    dedupe: z.boolean().default(true),
    /** Mask emails, phone numbers and card-like numbers on top of the feature's own policy. */
    scrubPii: z.boolean().default(true),
    minPromptChars: z.number().int().min(0).max(100_000).default(1),
    maxPromptChars: z.number().int().min(1).max(100_000).default(4_000),
    maxCompletionChars: z.number().int().min(1).max(100_000).default(2_000),
    /** The build fails (no version) when a class has fewer rows than this. */
    minRowsPerClass: z.number().int().min(1).max(1_000_000).default(1),
    /** A preference pair needs the user's text to differ from the suggestion by at least this… */
    pairMinEditDistance: z.number().min(0).max(1).default(0.05),
    /** …and at most this (beyond it the user wrote something new, not a correction). */
    pairMaxEditDistance: z.number().min(0).max(1).default(0.9),
  })
  .refine((g) => g.minPromptChars <= g.maxPromptChars, {
    message: 'minPromptChars must not exceed maxPromptChars',
    path: ['minPromptChars'],
  })
  .refine((g) => g.pairMinEditDistance <= g.pairMaxEditDistance, {
    message: 'pairMinEditDistance must not exceed pairMaxEditDistance',
    path: ['pairMinEditDistance'],
  });

export const datasetDefinitionSchema = z
  .object({
    featureId: z.string().trim().min(1).max(100),
    /** Empty: every model version. */
    modelVersionIds: z.array(z.string().min(1).max(64)).max(50).default([]),
    /** Generations made at or after `from` and before `to` (both optional). */
    from: isoDate.optional(),
    to: isoDate.optional(),
    /** Empty: any outcome (and, for prompt-only, generations without one). */
    outcomes: z.array(z.enum(DATASET_OUTCOMES)).max(DATASET_OUTCOMES.length).default([]),
    /** Accepts must still be this much there (1 − edit distance at the last window). */
    minRetention: z.number().min(0).max(1).default(0),
    /** Only answers of the feature's primary tier (not fallbacks). */
    primaryOnly: z.boolean().default(true),
    samplingRate: z.number().gt(0).max(1).default(1),
    /** Share of units whose rows go to eval (the split is by unit). */
    evalFraction: z.number().min(0).max(0.9).default(0.1),
    seed: z.string().trim().min(1).max(100),
    format: z.enum(DATASET_FORMATS),
    gates: qualityGatesSchema.default(qualityGatesSchema.parse({})),
    /**
     * Optional, for knowledge distillation: per token of the kept completion, the teacher's
     * top-k logprobs, scored through the OpenAI-compatible API when the version is built.
     */
    teacherLogprobs: z
      .object({
        model: z.string().trim().min(1).max(200),
        k: z.number().int().min(1).max(20).default(5),
      })
      .optional(),
  })
  .refine((d) => !d.teacherLogprobs || d.format === 'prompt-completion', {
    message: 'Teacher logprobs score the kept completion: use the prompt-completion format',
    path: ['teacherLogprobs'],
  })
  .refine((d) => !d.from || !d.to || d.from < d.to, {
    message: '`from` must be before `to`',
    path: ['from'],
  });

export type DatasetDefinition = z.infer<typeof datasetDefinitionSchema>;
export type DatasetDefinitionInput = z.input<typeof datasetDefinitionSchema>;
export type QualityGates = z.infer<typeof qualityGatesSchema>;

/** Dataset names are folder and URL safe. */
export const datasetNameSchema = z
  .string()
  .trim()
  .min(1)
  .max(80)
  .regex(/^[a-z0-9][a-z0-9._-]*$/, 'use lowercase letters, digits, ".", "_" and "-"');

export const SPLITS = ['train', 'eval'] as const;
export type Split = (typeof SPLITS)[number];

/** Columns of each format, as TRL names them. */
export const FORMAT_COLUMNS: Record<DatasetFormat, readonly string[]> = {
  'prompt-completion': ['prompt', 'completion'],
  preference: ['prompt', 'chosen', 'rejected'],
  'unpaired-preference': ['prompt', 'completion', 'label'],
  'prompt-only': ['prompt'],
};

/** Files of a version's export folder (the console links them). */
export const DATASET_FILES_FOR_DOWNLOAD = [
  'train.jsonl',
  'eval.jsonl',
  'manifest.json',
  'README.md',
] as const;
