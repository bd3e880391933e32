/** Input schemas of the suggestion endpoints (tRPC, the rewrite stream and /api/v1). */
import { z } from 'zod';
import { MAX_REWRITE_SELECTION_CHARS } from '../limits';
import { REWRITE_INSTRUCTIONS } from './feature-registry';

const unitId = z.string().min(1).max(128);
// Limits keep a request cheap to validate and to prompt; the editor sends the nearest text.
const LIMIT = (n: number) => `must be at most ${n} characters (send the text nearest the cursor)`;

export const completeInput = z.object({
  featureId: z.string().min(1).max(64),
  unitId,
  textBefore: z.string().max(8000, LIMIT(8000)),
  textAfter: z.string().max(2000, LIMIT(2000)).default(''),
});
export type CompleteInput = z.input<typeof completeInput>;

export const rewriteInput = z.object({
  featureId: z.string().min(1).max(64),
  unitId,
  selection: z.string().min(1).max(MAX_REWRITE_SELECTION_CHARS, LIMIT(MAX_REWRITE_SELECTION_CHARS)),
  instruction: z.enum(REWRITE_INSTRUCTIONS),
  before: z.string().max(8000, LIMIT(8000)).default(''),
  after: z.string().max(2000, LIMIT(2000)).default(''),
});
export type RewriteInput = z.input<typeof rewriteInput>;

export const completeOutput = z.object({
  /** Null when the Generation could not be recorded (queue full, per-unit cap): send no feedback. */
  generationId: z.string().nullable(),
  recorded: z.boolean(),
  text: z.string(),
  tier: z.enum(['primary', 'fallback_model', 'ngram', 'none']),
  modelVersion: z.string().nullable(),
  latencyMs: z.number(),
});
export type SuggestionResponse = z.infer<typeof completeOutput>;
