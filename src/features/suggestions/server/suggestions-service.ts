/**
 * Suggestions: resolve the feature and the unit's model, ask the gateway, answer, then store the
 * Generation without making the caller wait. Backend trouble never surfaces as an error here (the
 * gateway degrades); only bad input does (unknown feature 404, wrong task or size 400).
 */
import { randomUUID } from 'node:crypto';
import { DomainError } from '~/server/errors';
import { resolveServed } from './arm-resolver';
import {
  getFeature,
  instructionText,
  renderPrompt,
  rewriteMaxTokens,
  type FeatureDeclaration,
  type FeatureTask,
} from './feature-registry';
import { seedFor } from './generation-store';
import type { GatewayRequest } from './gateway';
import {
  completeInput,
  rewriteInput,
  type CompleteInput,
  type RewriteInput,
  type SuggestionResponse,
} from './suggestion-inputs';
import type { SuggestionRuntime } from './suggestions-runtime';

export interface SuggestionOutcome {
  response: SuggestionResponse;
  /** Settles when the Generation is stored (or given up, or was never queued); never rejects. */
  persisted: Promise<void>;
}

/** The feature, or a 404 (unknown) or 400 (another task) naming what to send instead. */
export function featureFor(featureId: string, task: FeatureTask): FeatureDeclaration {
  const feature = getFeature(featureId);
  if (feature.task !== task) {
    throw new DomainError(
      'BAD_REQUEST',
      `Feature "${featureId}" is a ${feature.task} feature; ${
        feature.task === 'rewrite' ? 'send a selection and an instruction' : 'send textBefore'
      }`,
    );
  }
  return feature;
}

async function run(
  rt: SuggestionRuntime,
  feature: FeatureDeclaration,
  request: Omit<GatewayRequest, 'feature' | 'seed' | 'primaryOverride'>,
): Promise<SuggestionOutcome> {
  const id = randomUUID();
  const seed = seedFor(id);
  // The arm's model, else the feature's default version; the chain after it either way.
  const { arm, model } = await resolveServed(rt.db, feature.id, request.unitId);
  const result = await rt.gateway.suggest({
    ...request,
    feature,
    seed,
    primaryOverride: model,
  });
  const { recorded, stored } = await rt.recorder.record({
    id,
    feature,
    unitId: request.unitId,
    seed,
    prompt: request.prompt,
    experimentId: arm?.experimentId,
    armId: arm?.armId,
    result,
  });
  return {
    response: {
      generationId: recorded ? id : null,
      recorded,
      text: result.text,
      tier: result.tier,
      modelVersion: result.model?.label ?? null,
      latencyMs: Math.round(result.latencyMs * 10) / 10,
    },
    persisted: stored,
  };
}

export async function completeSuggestion(
  rt: SuggestionRuntime,
  raw: CompleteInput,
  signal?: AbortSignal,
): Promise<SuggestionOutcome> {
  const input = completeInput.parse(raw);
  const feature = featureFor(input.featureId, 'completion');
  return run(rt, feature, {
    unitId: input.unitId,
    prompt: renderPrompt(feature, { textBefore: input.textBefore, textAfter: input.textAfter }),
    maxTokens: feature.maxTokens,
    textBefore: input.textBefore,
    textAfter: input.textAfter,
    signal,
  });
}

export interface RewriteStreamOptions {
  signal?: AbortSignal;
  /** Each piece of text as it arrives. */
  onDelta?: (text: string) => void;
  /** A tier failed after streaming part of its answer: drop what was streamed so far. */
  onReset?: () => void;
}

export async function rewriteSuggestion(
  rt: SuggestionRuntime,
  raw: RewriteInput,
  { signal, onDelta, onReset }: RewriteStreamOptions = {},
): Promise<SuggestionOutcome> {
  const input = rewriteInput.parse(raw);
  const feature = featureFor(input.featureId, 'rewrite');
  return run(rt, feature, {
    unitId: input.unitId,
    prompt: renderPrompt(feature, {
      selection: input.selection,
      instruction: instructionText(input.instruction),
      before: input.before,
      after: input.after,
    }),
    maxTokens: rewriteMaxTokens(feature, input.selection),
    // The selection is the worker's speculative draft: unchanged spans cost almost nothing.
    prediction: input.selection,
    textBefore: input.before,
    textAfter: input.after,
    signal,
    onDelta,
    onReset,
  });
}

/** /api/v1/suggestions: a completion, or a rewrite answered whole (by the feature's task). */
export async function suggestAny(
  rt: SuggestionRuntime,
  body: unknown,
  signal?: AbortSignal,
): Promise<SuggestionOutcome> {
  const featureId = (body as { featureId?: unknown } | null)?.featureId;
  const task = typeof featureId === 'string' ? getFeature(featureId).task : 'completion';
  return task === 'rewrite'
    ? rewriteSuggestion(rt, body as RewriteInput, { signal })
    : completeSuggestion(rt, body as CompleteInput, signal);
}
