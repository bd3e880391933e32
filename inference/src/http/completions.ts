/**
 * POST /v1/completions. `prompt` may be a list (one choice per prompt, times `n`); with
 * `echo` and `logprobs` the prompt tokens are scored too, and `max_tokens: 0` only scores.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpContext, ServedModel } from './context';
import { badRequest } from './errors';
import type { ChoiceResult, PromptJob, TokenInfo } from './generate';
import {
  completionLogprobs,
  concatLogprobs,
  TokenOffsets,
  type CompletionLogprobs,
  type ScoredToken,
  type TokenNaming,
} from './logprobs';
import {
  findModel,
  fitContext,
  requestAttributes,
  requestOptions,
  truncatePrompt,
} from './request-params';
import { completionSchema, parseBody, type CompletionBody } from './schemas';
import { serve } from './serve';

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
  req: IncomingMessage,
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
  // A truncated prompt is what the model sees, so echo and usage show that (as vLLM's do).
  const prompts = promptsOf(served, params.prompt).map((p) => {
    const ids = truncatePrompt(served, p.ids, {
      truncate: params.truncate_prompt_tokens,
      maxTokens: params.max_tokens,
    });
    return ids === p.ids ? p : { ids, echo: served.tokenizer.decode(ids, true) };
  });
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

  const choiceLogprobs = (r: ChoiceResult): CompletionLogprobs | null => {
    if (logprobs === null) return null;
    const generated = generatedLogprobs(r.index, r.logprobs);
    if (!scoring) return generated;
    const prompt = promptOf(r.index);
    return concatLogprobs(
      promptLogprobs(served, { prompt, scores: r.promptLogprobs ?? [], naming }),
      generated,
    );
  };
  await serve({
    res,
    headers: req.headers,
    tracer: ctx.tracer,
    operation: 'text_completion',
    requestAttributes: requestAttributes(params, params.max_tokens ?? 16),
    signal,
    served,
    model: params.model,
    jobs,
    stream: params.stream === true,
    includeUsage: params.stream_options?.include_usage === true,
    options: {
      ...requestOptions(ctx, served, params),
      n,
      logprobs,
      promptLogprobs: scoring ? logprobs : null,
    },
    format: {
      idPrefix: 'cmpl',
      chunkObject: 'text_completion',
      object: 'text_completion',
      extra: {},
      // Streamed echo: the whole prompt (with its scores) as each choice's first chunk.
      ...(echo
        ? {
            prompt: (index: number, scores: TokenInfo[] | null) => {
              const prompt = promptOf(index);
              const lp =
                scores === null ? null : promptLogprobs(served, { prompt, scores, naming });
              return { index, text: prompt.echo, logprobs: lp, finish_reason: null };
            },
          }
        : {}),
      delta: (index, text, infos) => ({
        index,
        text,
        logprobs: logprobs === null ? null : generatedLogprobs(index, infos),
        finish_reason: null,
      }),
      finish: (r) => ({ index: r.index, text: '', logprobs: null, finish_reason: r.finishReason }),
      whole: (r) => ({
        index: r.index,
        text: echoText(r.index) + r.text,
        logprobs: choiceLogprobs(r),
        finish_reason: r.finishReason,
      }),
    },
  });
}
