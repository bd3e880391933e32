/**
 * What an experiment is made of, as validated input (shared by the console forms, tRPC and the
 * public API). Pure: no I/O.
 */
import { z } from 'zod';

export const GUARDRAIL_METRICS = [
  'fallback_rate',
  'dismissal_rate',
  'acceptance_rate',
  'latency_p95',
] as const;
export type GuardrailMetric = (typeof GUARDRAIL_METRICS)[number];

export const GUARDRAIL_INFO: Record<
  GuardrailMetric,
  { label: string; worse: 'higher' | 'lower'; description: string }
> = {
  fallback_rate: {
    label: 'Fallback or error rate',
    worse: 'higher',
    description:
      'Share of suggestions not answered by the primary model (tier ≠ primary, or an error).',
  },
  dismissal_rate: {
    label: 'Dismissal rate',
    worse: 'higher',
    description: 'Dismissed (Esc) among shown suggestions.',
  },
  acceptance_rate: {
    label: 'Acceptance rate (drop)',
    worse: 'lower',
    description: 'Accepted, partly accepted or typed through among shown suggestions.',
  },
  latency_p95: {
    label: 'Latency p95',
    worse: 'higher',
    description: "Share of suggestions slower than control's p95 latency (5% in control).",
  },
};

export const EXPERIMENT_STATUSES = [
  'draft',
  'running',
  'paused',
  'completed',
  'rolled_back',
] as const;
export type ExperimentStatus = (typeof EXPERIMENT_STATUSES)[number];

const WEIGHT_TOLERANCE = 1e-6;

export const armInput = z.object({
  name: z
    .string()
    .trim()
    .min(1)
    .max(40)
    .regex(/^[\w .-]+$/, 'Use letters, digits, spaces, dots, dashes or underscores'),
  modelVersionId: z.string().uuid('Pick a registered model version'),
  weight: z.number().min(0).max(1),
  isControl: z.boolean().default(false),
});
export type ArmInput = z.infer<typeof armInput>;

export const rampStepInput = z.object({
  /** Share of units in the experiment at this step (0 < coverage ≤ 1). */
  coverage: z.number().gt(0).max(1),
  /** The step lasts at least this long before the job advances it. */
  minDurationMinutes: z
    .number()
    .int()
    .min(0)
    .max(60 * 24 * 90),
  /** …and until every arm has this many exposed units. */
  minUnitsPerArm: z.number().int().min(0).max(10_000_000),
});
export type RampStep = z.infer<typeof rampStepInput>;

export const guardrailInput = z.object({
  metric: z.enum(GUARDRAIL_METRICS),
  /** Tolerated absolute harm (e.g. 0.01 = one point); 0 rolls back on any significant harm. */
  margin: z.number().min(0).max(1).default(0),
  /** Units per arm before the metric is tested. */
  minUnits: z.number().int().min(2).max(1_000_000).default(100),
});
export type Guardrail = z.infer<typeof guardrailInput>;

export const DEFAULT_GUARDRAILS: Guardrail[] = GUARDRAIL_METRICS.map((metric) => ({
  metric,
  margin: 0,
  minUnits: 100,
}));

export const DEFAULT_RAMP: RampStep[] = [
  { coverage: 0.05, minDurationMinutes: 60, minUnitsPerArm: 100 },
  { coverage: 0.25, minDurationMinutes: 60, minUnitsPerArm: 500 },
  { coverage: 0.5, minDurationMinutes: 120, minUnitsPerArm: 1000 },
  { coverage: 1, minDurationMinutes: 0, minUnitsPerArm: 0 },
];

export const armsInput = z
  .array(armInput)
  .min(2, 'An experiment needs a control and at least one treatment')
  .max(5)
  .superRefine((arms, ctx) => {
    const controls = arms.filter((a) => a.isControl).length;
    if (controls !== 1)
      ctx.addIssue({
        code: 'custom',
        message: `Mark exactly one arm as control (${controls} are)`,
      });
    const sum = arms.reduce((s, a) => s + a.weight, 0);
    if (Math.abs(sum - 1) > WEIGHT_TOLERANCE)
      ctx.addIssue({ code: 'custom', message: `Weights must sum to 1 (they sum to ${sum})` });
    const names = new Set(arms.map((a) => a.name.toLowerCase()));
    if (names.size !== arms.length)
      ctx.addIssue({ code: 'custom', message: 'Arm names must differ' });
    if (arms.some((a) => a.weight === 0))
      ctx.addIssue({ code: 'custom', message: 'Every arm needs a weight above 0' });
  });

export const rampInput = z
  .array(rampStepInput)
  .min(1)
  .max(12)
  .superRefine((steps, ctx) => {
    for (let i = 1; i < steps.length; i++) {
      if ((steps[i] as RampStep).coverage <= (steps[i - 1] as RampStep).coverage)
        ctx.addIssue({
          code: 'custom',
          path: [i, 'coverage'],
          message: 'Ramp steps must go up: each step covers more units than the one before',
        });
    }
  });

export const guardrailsInput = z
  .array(guardrailInput)
  .max(GUARDRAIL_METRICS.length)
  .superRefine((gs, ctx) => {
    if (new Set(gs.map((g) => g.metric)).size !== gs.length)
      ctx.addIssue({ code: 'custom', message: 'Each guardrail metric may appear once' });
  });

/** GrowthBook's default N* for its sequential tests. */
export const DEFAULT_SEQUENTIAL_TUNING = 5000;

/**
 * The guardrails' sequential-test tuning N*: the total units (all arms) at which their confidence
 * sequences are tightest. Any value keeps them valid at every look; far below the sample they are
 * wide (a 16-unit experiment with N* 5000 can miss a treatment that always falls back). Below 300
 * the asymptotic sequences let too many false rollbacks through at small samples (simulated A/A at
 * 4 units per arm: 2.1% at N* 100, 0.9% at 300, against 1.25% per test; guardrails.test.ts).
 */
const sequentialTuningInput = z
  .number()
  .int('N* is a whole number of units')
  .min(300, 'N* is at least 300 units (below, small samples roll back falsely too often)')
  .max(10_000_000);

export const createExperimentInput = z.object({
  featureId: z.string().min(1).max(80),
  name: z.string().trim().min(1).max(120),
  description: z.string().max(2000).default(''),
  arms: armsInput,
  ramp: rampInput.default(DEFAULT_RAMP),
  guardrails: guardrailsInput.default(DEFAULT_GUARDRAILS),
  /** Error budget of all guardrail tests together. */
  alpha: z.number().gt(0).max(0.2).default(0.05),
  sequentialTuning: sequentialTuningInput.default(DEFAULT_SEQUENTIAL_TUNING),
  /**
   * The assignment seed (GrowthBook's `seed`): the same seed and unit ids give the same arms, so
   * a run can be repeated. Random when absent. Fixed once created.
   */
  seed: z
    .string()
    .trim()
    .min(1, 'The assignment seed cannot be empty; leave it out for a random one')
    .max(100, 'The assignment seed is at most 100 characters')
    .regex(/^[\w.:-]+$/, 'The assignment seed uses letters, digits, ".", ":", "_" and "-"')
    .optional(),
});
export type CreateExperimentInput = z.input<typeof createExperimentInput>;

/** Edits: a draft may change everything; a live experiment only its name, description, guardrails. */
export const updateExperimentInput = z.object({
  id: z.string().uuid(),
  expectedVersion: z.number().int().min(1),
  name: z.string().trim().min(1).max(120).optional(),
  description: z.string().max(2000).optional(),
  arms: armsInput.optional(),
  ramp: rampInput.optional(),
  guardrails: guardrailsInput.optional(),
  alpha: z.number().gt(0).max(0.2).optional(),
  sequentialTuning: sequentialTuningInput.optional(),
});
export type UpdateExperimentInput = z.input<typeof updateExperimentInput>;

export const EXPERIMENT_ACTIONS = ['start', 'pause', 'advance', 'kill', 'promote'] as const;
export type ExperimentAction = (typeof EXPERIMENT_ACTIONS)[number];

export const experimentActionInput = z.object({
  id: z.string().uuid(),
  expectedVersion: z.number().int().min(1),
  action: z.enum(EXPERIMENT_ACTIONS),
  /** For promote: the arm whose model version becomes the feature's default. */
  armId: z.string().uuid().optional(),
  reason: z.string().max(500).optional(),
});
export type ExperimentActionInput = z.input<typeof experimentActionInput>;

export const holdoutInput = z.object({
  featureId: z.string().min(1).max(80),
  /** Share of units held out of every experiment on the feature, 0..0.5. */
  share: z.number().min(0).max(0.5),
});

export const defaultVersionInput = z.object({
  featureId: z.string().min(1).max(80),
  /** The version every unit outside an experiment is served. */
  modelVersionId: z.string().uuid('Pick a registered model version (its id is a UUID)'),
});
export type DefaultVersionInput = z.input<typeof defaultVersionInput>;

/** Parses stored JSON (written by this module) back into steps and guardrails. */
export function storedRamp(value: unknown): RampStep[] {
  const parsed = rampInput.safeParse(value);
  return parsed.success ? parsed.data : DEFAULT_RAMP;
}
export function storedGuardrails(value: unknown): Guardrail[] {
  const parsed = guardrailsInput.safeParse(value);
  return parsed.success ? parsed.data : [];
}
