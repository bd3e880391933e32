/**
 * Records a Generation after the suggestion has been computed. The caller does not wait for the
 * write (the user should not pay for our bookkeeping) and a failed write never breaks the
 * suggestion: the answer says whether it was recorded, and a metric counts what was not.
 */
import { createHash } from 'node:crypto';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { ABORTED_ERROR } from '~/features/feedback/metrics';
import type { FeatureDeclaration } from './feature-registry';
import type { GatewayResult } from './gateway';
import { notRecorded, type GenerationRow, type GenerationWriter } from './generation-writer';
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

/** The stored row: prompt and output redacted by the feature's policy. */
export function toGenerationRow(record: GenerationRecord, now = new Date()): GenerationRow {
  const { result, feature } = record;
  const { prompt, output } = redact(feature.redaction, {
    prompt: record.prompt,
    output: result.text,
  });
  return {
    id: record.id,
    featureId: feature.id,
    modelVersionId: result.model?.id ?? null,
    experimentId: record.experimentId ?? null,
    armId: record.armId ?? null,
    unitId: record.unitId,
    tier: result.tier,
    backend: result.backend,
    seed: record.seed,
    prompt,
    output,
    promptTokens: result.promptTokens,
    completionTokens: result.completionTokens,
    ttftMs: result.ttftMs,
    latencyMs: result.latencyMs,
    error: result.aborted ? ABORTED_ERROR : result.error,
    traceId: result.traceId,
    spanId: result.spanId,
    parentSpanId: result.parentSpanId,
    createdAt: now,
    // Abandoned requests (a newer keystroke) stay in our table for latency analysis but are not
    // product events: PostHog and the trace backend only get suggestions that were answered.
    copy: !result.aborted,
  };
}

export interface Recorded {
  recorded: boolean;
  /** Settles when the row is stored or given up; never rejects. */
  stored: Promise<void>;
}

/**
 * Caps the Generations one unit can store per minute (a client inventing keystrokes cannot
 * fill the table), then hands the row to the writer.
 */
export class GenerationRecorder {
  private readonly perUnit: RateLimiterMemory;

  constructor(
    private readonly writer: GenerationWriter,
    perUnitPerMinute: number,
  ) {
    this.perUnit = new RateLimiterMemory({
      keyPrefix: 'generations-per-unit',
      points: perUnitPerMinute,
      duration: 60,
    });
  }

  async record(record: GenerationRecord): Promise<Recorded> {
    const allowed = await this.perUnit.consume(record.unitId).then(
      () => true,
      () => false,
    );
    if (!allowed) {
      notRecorded().inc({ reason: 'unit_cap' });
      return { recorded: false, stored: Promise.resolve() };
    }
    const { laterUsage } = record.result;
    // Token counts that come after the answer (a stream cut at a sentence end, read to its
    // usage chunk) are waited for here, off the response path.
    const stored = laterUsage
      ? this.writer.offerLater(
          record.id,
          laterUsage.then(
            (usage) =>
              toGenerationRow({
                ...record,
                result: {
                  ...record.result,
                  promptTokens: usage?.promptTokens ?? record.result.promptTokens,
                  completionTokens: usage?.completionTokens ?? record.result.completionTokens,
                },
              }),
            () => toGenerationRow(record),
          ),
        )
      : this.writer.offer(toGenerationRow(record));
    return stored ? { recorded: true, stored } : { recorded: false, stored: Promise.resolve() };
  }
}
