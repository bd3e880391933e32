import { modelVersionLabel } from '~/features/models/model-label';
import type { Db } from '~/server/db';
import type { FeedbackCopy, OutboxRow, OutboxSinkName } from '../outbox';
import { providerNameOf, type ProviderConfig } from './provider-name';

/** A generation as the sinks describe it (joined with its model version and arm). */
export interface GenerationForSink {
  id: string;
  unitId: string;
  featureId: string;
  tier: string;
  backend: string | null;
  /** The GenAI provider name (`gen_ai.provider.name`, `$ai_provider`); see provider-name.ts. */
  provider: string;
  /** Model id as the backend knows it (what `$ai_model` / `gen_ai.request.model` report). */
  model: string | null;
  modelVersion: string | null;
  experimentId: string | null;
  arm: string | null;
  prompt: string;
  output: string;
  promptTokens: number | null;
  completionTokens: number | null;
  ttftMs: number | null;
  latencyMs: number;
  error: string | null;
  traceId: string | null;
  /** The backend call's span id and the app span it was made under (null on older rows). */
  spanId: string | null;
  parentSpanId: string | null;
  createdAt: Date;
}

export interface DeliveryItem {
  row: OutboxRow;
  /** The generation the row is about; null when it has been deleted since. */
  generation: GenerationForSink | null;
}

/**
 * A destination of outbox copies. `deliver` resolves only once the sink has acknowledged every
 * item and throws otherwise: the dispatcher then keeps the rows and retries them later.
 */
export interface OutboxSink {
  readonly name: OutboxSinkName;
  deliver(items: DeliveryItem[]): Promise<void>;
  close?(): Promise<void>;
}

export function generationIdOf(row: OutboxRow): string {
  return row.kind === 'feedback' ? (row.payload as FeedbackCopy).generationId : row.aggregateId;
}

/** Loads the generations a batch of rows refers to, in one query. */
export async function loadGenerationsForSinks(
  db: Db,
  ids: string[],
  providers: ProviderConfig = { workerOrigins: [] },
): Promise<Map<string, GenerationForSink>> {
  if (ids.length === 0) return new Map();
  const rows = await db.generation.findMany({
    where: { id: { in: ids } },
    include: { modelVersion: true, arm: true },
  });
  return new Map(
    rows.map((g) => {
      const backend = g.backend ?? g.modelVersion?.backend ?? null;
      return [
        g.id,
        {
          id: g.id,
          unitId: g.unitId,
          featureId: g.featureId,
          tier: g.tier,
          backend,
          provider: providerNameOf(backend, providers),
          model: g.modelVersion?.backendModel ?? null,
          modelVersion: g.modelVersion ? modelVersionLabel(g.modelVersion) : null,
          experimentId: g.experimentId,
          arm: g.arm?.name ?? null,
          prompt: g.prompt,
          output: g.output,
          promptTokens: g.promptTokens,
          completionTokens: g.completionTokens,
          ttftMs: g.ttftMs,
          latencyMs: g.latencyMs,
          error: g.error,
          traceId: g.traceId,
          spanId: g.spanId,
          parentSpanId: g.parentSpanId,
          createdAt: g.createdAt,
        },
      ];
    }),
  );
}

/** Properties every copy carries so analytics can slice by feature, tier and arm. */
export function dimensionsOf(generation: GenerationForSink | null) {
  return {
    feature: generation?.featureId ?? null,
    tier: generation?.tier ?? null,
    model_version: generation?.modelVersion ?? null,
    experiment_id: generation?.experimentId ?? null,
    arm: generation?.arm ?? null,
  };
}
