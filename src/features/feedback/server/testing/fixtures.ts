import { randomUUID } from 'node:crypto';
import type { Db } from '~/server/db';
import type { FeedbackEventInput } from '../../events';

const FEATURE_ID = 'test-inline-completion';

/** The test feature's row (Generations need it). */
export async function ensureTestFeature(db: Db): Promise<string> {
  await db.feature.upsert({
    where: { id: FEATURE_ID },
    create: { id: FEATURE_ID, task: 'completion', config: {}, configHash: 'test' },
    update: {},
  });
  return FEATURE_ID;
}

/** The fields of a test Generation (what the gateway would have answered). */
export const testGenerationFields = {
  featureId: FEATURE_ID,
  tier: 'primary',
  backend: 'test-worker',
  prompt: 'The quick brown',
  output: ' fox jumps',
  promptTokens: 4,
  completionTokens: 3,
  ttftMs: 12,
  latencyMs: 85,
} as const;

/** A Generation row for `unitId` (and the feature it needs), made directly. */
export async function makeGeneration(db: Db, unitId: string, fields: { error?: string } = {}) {
  await ensureTestFeature(db);
  return db.generation.create({
    data: { ...testGenerationFields, unitId, error: fields.error ?? null },
  });
}

/** One event of each kind for a generation, as the browser would send them. */
export function lifecycleEvents(generationId: string, clientTs = Date.now()): FeedbackEventInput[] {
  const base = { generationId, clientTs };
  return [
    {
      ...base,
      type: 'shown',
      clientEventId: randomUUID(),
      payload: { gateMs: 750, responseToShownMs: 14 },
    },
    {
      ...base,
      type: 'accepted',
      clientEventId: randomUUID(),
      payload: { shownToDecisionMs: 900, acceptedChars: 10 },
    },
    {
      ...base,
      type: 'retention',
      clientEventId: randomUUID(),
      payload: { window: '30s', editDistance: 0.1, retainedChars: 9, acceptedChars: 10 },
    },
  ];
}
