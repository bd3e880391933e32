/**
 * POST /v1/completions. `prompt` may be a list (one choice per prompt, times `n`); with
 * `echo` and `logprobs` the prompt tokens are scored too, and `max_tokens: 0` only scores.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { HttpContext, ServedModel } from './context';
import { badRequest, sendJson } from './errors';
import { generate, usageOf, type ChoiceResult, type PromptJob, type TokenInfo } from './generate';
import {
  completionLogprobs,
  concatLogprobs,
  TokenOffsets,
  type CompletionLogprobs,
  type ScoredToken,
  type TokenNaming,
} from './logprobs';
import { findModel, fitContext, requestOptions } from './request-params';
import { completionSchema, parseBody, type CompletionBody } from './schemas';
import { failStream, SseWriter } from './sse';

interface Prompt {
  ids: number[];
  /** What `echo` returns: the prompt as sent, or the decoded token ids. */
  echo: string;
}

/** The request's prompts as token ids (each validated), with their echo text. */
function promptsOf(served: ServedModel, raw: CompletionBody['prompt']): Prompt[] {
  const list: (string | number[])[] =
    typeof raw === 'string'
      ? [raw]
      : raw.length > 0 && typeof raw[0] === 'number'
        ? [raw as number[]]
        : (raw as (string | number[])[]);
  const vocab = served.version.config.vocabSize;
  return list.map((p, i) => {
    const label = list.length > 1 ? `prompt ${i}` : 'the prompt';
    if (p === '' || p.length === 0) throw badRequest(`${label} is empty`, 'prompt', 'empty_prompt');
    if (typeof p === 'string') return { ids: served.tokenizer.encode(p), echo: p };
    if (vocab !== null && p.some((t) => t >= vocab)) {
      throw badRequest(`prompt token ids must be below the vocabulary size ${vocab}`, 'prompt');
    }
    return { ids: p, echo: served.tokenizer.decode(p, true) };
  });
}

/** Logprobs of an echoed prompt: token 0 has no context, so null logprob and top_logprobs. */
function promptLogprobs(
  served: ServedModel,
  { prompt, scores, naming }: { prompt: Prompt; scores: readonly TokenInfo[]; naming: TokenNaming },
): CompletionLogprobs {
  const first: ScoredToken = { id: prompt.ids[0] as number, logprob: null, top: null };
  const offsets = new TokenOffsets((ids) => served.tokenizer.decode(ids, true), 0);
  return completionLogprobs(served, [first, ...scores], {
    offsets: offsets.push(prompt.ids),
    naming,
  });
}

export async function handleCompletions(
  ctx: HttpContext,
  body: unknown,
  res: ServerResponse,
  _req: IncomingMessage,
  signal: AbortSignal,
): Promise<void> {
  const params = parseBody(completionSchema, body);
  const served = findModel(ctx, params.model);
  const echo = params.echo === true;
  if (params.max_tokens === 0 && !echo) {
    throw badRequest(
      'max_tokens 0 generates nothing: set echo: true (with logprobs) to score the prompt, or ask for at least 1 token',
      'max_tokens',
    );
  }
  const prompts = promptsOf(served, params.prompt);
  const n = params.n ?? 1;
  const jobs: PromptJob[] = prompts.map((p, i) => ({
    prompt: p.ids,
    maxTokens: fitContext(served, {
      promptLength: p.ids.length,
      maxTokens: params.max_tokens,
      fallback: 16,
      label: prompts.length > 1 ? `prompt ${i}` : 'the prompt',
    }),
  }));
  const logprobs = params.logprobs ?? null;
  const naming: TokenNaming = params.return_tokens_as_token_ids === true ? 'id' : 'text';
  const scoring = echo && logprobs !== null;
  const promptOf = (choice: number) => prompts[Math.floor(choice / n)] as Prompt;
  const echoText = (choice: number) => (echo ? promptOf(choice).echo : '');
  // Offsets of generated tokens continue after the echoed prompt, in the text as streamed.
  const offsets = new Map<number, TokenOffsets>();
  const offsetsOf = (choice: number) => {
    let o = offsets.get(choice);
    if (!o) {
      o = new TokenOffsets((ids) => served.tokenizer.decode(ids), echoText(choice).length);
      offsets.set(choice, o);
    }
    return o;
  };
  const generatedLogprobs = (choice: number, infos: readonly TokenInfo[]) =>
    completionLogprobs(served, infos, {
      offsets: offsetsOf(choice).push(infos.map((t) => t.id)),
      naming,
    });

  const id = `cmpl-${randomUUID()}`;
  const created = Math.floor(Date.now() / 1000);
  const model = params.model;
  const sse = params.stream === true ? new SseWriter(res) : null;
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) => ({
    id,
    object: 'text_completion',
    created,
    model,
    choices,
    ...extra,
  });
  let results: ChoiceResult[];
  try {
    results = await generate({
      served,
      prompts: jobs,
      ...requestOptions(ctx, served, params),
      n,
      logprobs,
      promptLogprobs: scoring ? logprobs : null,
      signal,
      onPrompt:
        sse && echo
          ? (index, scores) => {
              const prompt = promptOf(index);
              const lp =
                scores === null ? null : promptLogprobs(served, { prompt, scores, naming });
              sse.send(chunk([{ index, text: prompt.echo, logprobs: lp, finish_reason: null }]));
            }
          : undefined,
      onDelta: sse
        ? (index, text, infos) => {
            const lp = logprobs === null ? null : generatedLogprobs(index, infos);
            sse.send(chunk([{ index, text, logprobs: lp, finish_reason: null }]));
          }
        : undefined,
    });
  } catch (err) {
    failStream(sse, err);
    return;
  }
  const usage = usageOf(jobs, results);
  if (sse) {
    for (const r of results) {
      sse.send(
        chunk([{ index: r.index, text: '', logprobs: null, finish_reason: r.finishReason }]),
      );
    }
    if (params.stream_options?.include_usage) sse.send(chunk([], { usage }));
    sse.done();
    return;
  }
  const choiceLogprobs = (r: ChoiceResult): CompletionLogprobs | null => {
    if (logprobs === null) return null;
    const generated = generatedLogprobs(r.index, r.logprobs);
    if (!scoring) return generated;
    return concatLogprobs(
      promptLogprobs(served, { prompt: promptOf(r.index), scores: r.promptLogprobs ?? [], naming }),
      generated,
    );
  };
  sendJson(
    res,
    200,
    chunk(
      results.map((r) => ({
        index: r.index,
        text: echoText(r.index) + r.text,
        logprobs: choiceLogprobs(r),
        finish_reason: r.finishReason,
      })),
      { usage },
    ),
  );
}
