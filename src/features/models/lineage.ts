import { z } from 'zod';

/**
 * Where a model version came from, as `distill.py` records it in flywheel.json (`lineage`) and
 * the registry stores it on the ModelVersion row. No I/O here, so the console imports it too.
 * Unknown keys are kept: a newer trainer may record more than this release reads.
 */
const digest = z.string().min(1).max(200).nullish();

export const lineageSchema = z.looseObject({
  dataset: z.looseObject({
    id: z.string().min(1).max(64).nullish(),
    name: z.string().min(1).max(200).nullish(),
    version: z.number().int().min(1).nullish(),
    contentDigest: digest,
  }),
  teacher: z.looseObject({
    model: z.string().min(1).max(200),
    digest,
    url: z.string().max(2000).nullish(),
  }),
  student_init: z.looseObject({
    model: z.string().min(1).max(200).nullish(),
    folder: z.string().max(2000).nullish(),
    digest,
  }),
  loss: z.looseObject({
    beta: z.number().min(0).max(1),
    mode: z.enum(['partition', 'renormalized']),
    k: z.number().int().min(1).max(20),
    temperature: z.number().positive().optional(),
    sft_weight: z.number().min(0).optional(),
  }),
  on_policy: z.number().min(0).max(1).default(0),
  seed: z.number().int(),
  steps: z.number().int().min(0),
  eval_divergence: z
    .looseObject({ before: z.number(), after: z.number(), prompts: z.number().int() })
    .optional(),
});
export type Lineage = z.infer<typeof lineageSchema>;

/** Reads a stored lineage for display; null when absent or not in this shape. */
export function readLineage(value: unknown): Lineage | null {
  const parsed = lineageSchema.safeParse(value);
  return parsed.success ? parsed.data : null;
}

/** `sha256:4322515178e2…` → `4322515178e2` (enough to tell versions apart on screen). */
export function shortDigest(value: string | null | undefined): string {
  if (!value) return 'digest unknown';
  return value.replace(/^sha256:/, '').slice(0, 12);
}
