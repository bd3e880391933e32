/**
 * Stores a Generation after the suggestion has been computed. The caller does not wait for it
 * (the user should not pay for our bookkeeping) and a failed write never breaks the suggestion:
 * it is logged, and the suggestion is shown anyway.
 */
import { createHash } from 'node:crypto';
import { enqueueGenerationCopy } from '~/features/feedback/server/outbox';
import type { Db } from '~/server/db';
import type { FeatureDeclaration } from './feature-registry';
import { ensureFeatures } from './feature-sync';
import type { GatewayResult } from './gateway';
import { redact } from './redaction';

/** The sampling seed: a pure function of the generation id (so a generation can be replayed). */
export function seedFor(generationId: string): number {
  // 48 bits: exact in a JS number and within every backend's integer seed range.
  return createHash('sha256').update(generationId).digest().readUIntBE(0, 6);
}

export interface GenerationRecord {
  id: string;
  feature: FeatureDeclaration;
  unitId: string;
  seed: number;
  prompt: string;
  experimentId?: string | null;
  armId?: string | null;
  result: GatewayResult;
}

export async function storeGeneration(db: Db, record: GenerationRecord): Promise<void> {
  const { result, feature } = record;
  await ensureFeatures(db);
  const { prompt, output } = redact(feature.redaction, {
    prompt: record.prompt,
    output: result.text,
  });
  await db.$transaction(async (tx) => {
    const generation = await tx.generation.create({
      data: {
        id: record.id,
        featureId: feature.id,
        modelVersionId: result.model?.id ?? null,
        experimentId: record.experimentId ?? null,
        armId: record.armId ?? null,
        unitId: record.unitId,
        tier: result.tier,
        backend: result.backend,
        seed: BigInt(record.seed),
        prompt,
        output,
        promptTokens: result.promptTokens,
        completionTokens: result.completionTokens,
        ttftMs: result.ttftMs,
        latencyMs: result.latencyMs,
        error: result.aborted ? 'aborted by the caller' : result.error,
        traceId: result.traceId,
      },
      select: { id: true },
    });
    // Abandoned requests (a newer keystroke) stay in our table for latency analysis but are not
    // product events: PostHog and the trace backend only get suggestions that were answered.
    if (!result.aborted) await enqueueGenerationCopy(tx, generation);
  });
}

/** Fire-and-forget form: resolves when done, never rejects. */
export function persistGeneration(db: Db, record: GenerationRecord): Promise<void> {
  return storeGeneration(db, record).catch((error: unknown) => {
    console.error(`suggestions: could not store generation ${record.id}:`, error);
  });
}
