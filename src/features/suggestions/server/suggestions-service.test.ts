// The suggestion service end to end on both databases (tRPC and the service functions), with the
// real worker as the backend (started once for the file).
import { expect, it } from 'vitest';
import { createCaller } from '~/composition/root';
import { contextFor } from '~/server/trpc';
import { describeOnEachDatabase } from '~/test/databases';
import { seedFor } from './generation-store';
import { completeSuggestion, rewriteSuggestion } from './suggestions-service';
import { FEATURES, renderPrompt } from './feature-registry';
import { workerPerFile } from './testing/gateway-fixtures';
import { suggestionRuntimeFor } from './testing/suggestions-fixtures';

const worker = workerPerFile();

describeOnEachDatabase('suggestions', ({ db }) => {
  const runtime = suggestionRuntimeFor(db, worker);
  it('mirrors the features with their default model version', async () => {
    const teacher = await db().modelVersion.findUniqueOrThrow({
      where: { name_version: { name: 'flywheel-teacher', version: '1' } },
    });
    expect(teacher.backendModel).toBe('flywheel-teacher/1');
    const feature = await db().feature.findUniqueOrThrow({ where: { id: 'inline-completion' } });
    expect(feature).toMatchObject({ task: 'completion', defaultModelVersionId: teacher.id });
    expect(feature.configHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('answers a completion from the teacher and stores a redacted Generation', async () => {
    const unitId = `u-${Math.random()}`;
    const { response, persisted } = await completeSuggestion(runtime(), {
      featureId: 'inline-completion',
      unitId,
      textBefore: 'Write to jane@example.com or call 555 0100. Thank you for',
      textAfter: '',
    });
    expect(response).toMatchObject({ tier: 'primary', modelVersion: 'flywheel-teacher/1' });
    expect(response.text.length).toBeGreaterThan(0);
    await persisted;
    const row = await db().generation.findUniqueOrThrow({
      where: { id: response.generationId! },
      include: { modelVersion: true },
    });
    expect(row).toMatchObject({
      featureId: 'inline-completion',
      unitId,
      tier: 'primary',
      backend: worker().baseUrl,
      seed: BigInt(seedFor(row.id)),
      prompt: 'Write to [email] or call [number]. Thank you for',
      error: null,
    });
    expect(row.modelVersion?.name).toBe('flywheel-teacher');
    expect(row.completionTokens).toBeGreaterThan(0);
    expect(row.ttftMs).toBeGreaterThan(0);
    expect(row.latencyMs).toBeGreaterThanOrEqual(row.ttftMs!);
    expect(row.traceId).toMatch(/^[0-9a-f]{32}$/);
    // The outbox copies for the configured sinks were written by the same statement.
    expect(await db().outbox.count({ where: { aggregateId: row.id, kind: 'generation' } })).toBe(2);
  });

  it('stores token counts with every model answer, also one cut at a sentence end', async () => {
    // Typed prompts ending in a space: the demo models often write past a sentence end there,
    // and the gateway answers at the sentence end (gateway.test.ts shows both ways of counting).
    const prompts = ['Hello! How ', 'It is done. It is done. It is ', 'Yes. No. Maybe ', 'OK. '];
    let modelAnswers = 0;
    for (const textBefore of prompts) {
      const { response, persisted } = await completeSuggestion(runtime(), {
        featureId: 'inline-completion',
        unitId: 'u-tokens',
        textBefore,
      });
      await persisted;
      const row = await db().generation.findUniqueOrThrow({
        where: { id: response.generationId! },
      });
      // (On a busy machine the 300 ms budget can pass a model by: the n-gram tier has no tokens.)
      if (row.tier !== 'primary' && row.tier !== 'fallback_model') continue;
      modelAnswers++;
      expect(row.promptTokens, textBefore).toBeGreaterThan(0);
      expect(row.completionTokens, textBefore).toBeGreaterThan(0);
    }
    expect(modelAnswers).toBeGreaterThan(0);
  });

  it('answers a 2,000-character prefix over the context from the primary model, with its last tokens', async () => {
    // Prose, then a list of hex ids (≈ 1 token a character) just before the cursor: the
    // 600 characters the feature sends are over the demo models' 256-token context.
    const ids = Array.from({ length: 90 }, (_, i) => ((i * 2654435761) >>> 0).toString(16));
    const tail = `Order ids: ${ids.join(', ')}. Thank you for`;
    const textBefore =
      `${'We shipped the release last week and it went well. '.repeat(40)}${tail}`.slice(-2000);
    expect(textBefore).toHaveLength(2000);
    const feature = FEATURES['inline-completion'];
    // Sent as it is, the prompt is refused: without truncation this request had no suggestion.
    const whole = await fetch(`${worker().baseUrl}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'flywheel-teacher/1',
        prompt: renderPrompt(feature, { textBefore }),
        max_tokens: feature.maxTokens,
      }),
    });
    expect(whole.status).toBe(400);
    expect(await whole.text()).toContain('context_length_exceeded');

    const { response, persisted } = await completeSuggestion(runtime(), {
      featureId: 'inline-completion',
      unitId: 'u-long',
      textBefore,
    });
    expect(response).toMatchObject({ tier: 'primary', modelVersion: 'flywheel-teacher/1' });
    expect(response.text.length).toBeGreaterThan(0);
    await persisted;
    const row = await db().generation.findUniqueOrThrow({ where: { id: response.generationId! } });
    // The worker kept the last tokens that fit the 256-token context with room for max_tokens.
    expect(row.promptTokens).toBe(256 - feature.maxTokens);
  });

  it('still refuses a rewrite whose prompt is over the context (no truncation)', async () => {
    const { response, persisted } = await rewriteSuggestion(runtime(), {
      featureId: 'rewrite',
      unitId: 'u-r-long',
      selection: Array.from({ length: 400 }, (_, i) => ((i * 40503) >>> 0).toString(16)).join(' '),
      instruction: 'shorter',
    });
    expect(response).toMatchObject({ tier: 'none', text: '' });
    await persisted;
    const row = await db().generation.findUniqueOrThrow({ where: { id: response.generationId! } });
    expect(row.error).toContain('maximum context length is 256 tokens');
  });

  it('stores an abandoned request as aborted, with no outbox copy', async () => {
    const controller = new AbortController();
    controller.abort();
    const { response, persisted } = await completeSuggestion(
      runtime(),
      { featureId: 'inline-completion', unitId: 'u-abort', textBefore: 'Thank you for' },
      controller.signal,
    );
    expect(response).toMatchObject({ tier: 'none', text: '' });
    await persisted;
    const row = await db().generation.findUniqueOrThrow({ where: { id: response.generationId! } });
    expect(row).toMatchObject({ tier: 'none', error: 'aborted by the caller' });
    expect(await db().outbox.count({ where: { aggregateId: row.id } })).toBe(0);
  });

  it('rewrites whole through the service with the selection as the draft', async () => {
    const deltas: string[] = [];
    const { response } = await rewriteSuggestion(
      runtime(),
      {
        featureId: 'rewrite',
        unitId: 'u-r2',
        selection: 'Thanks a lot!',
        instruction: 'more_formal',
      },
      { onDelta: (t) => deltas.push(t) },
    );
    expect(response.tier).toBe('primary');
    expect(deltas.join('')).toBe(response.text);
  });

  it('refuses bad input on tRPC with 4xx, and degrades without backends', async () => {
    const caller = createCaller(contextFor(db(), null));
    const base = { featureId: 'inline-completion', unitId: 'u-trpc', textBefore: 'Thank you for' };
    await expect(caller.suggestions.complete({ ...base, featureId: 'nope' })).rejects.toMatchObject(
      { code: 'NOT_FOUND' },
    );
    await expect(
      caller.suggestions.complete({ ...base, featureId: 'rewrite' }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(
      caller.suggestions.complete({ ...base, textBefore: 'x'.repeat(8001) }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(caller.suggestions.complete({ ...base, unitId: '' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    // The test process has no INFERENCE_BACKENDS: the n-gram tier answers, not an error.
    const answer = await caller.suggestions.complete(base);
    expect(answer).toMatchObject({ tier: 'ngram', text: ' your message.', modelVersion: null });
  });
});
