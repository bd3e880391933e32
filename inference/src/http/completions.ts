/** POST /v1/completions */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { HttpContext } from './context';
import { badRequest, sendJson } from './errors';
import { generate, usageOf, type ChoiceResult, type TokenInfo } from './generate';
import { findModel, fitContext, requestOptions } from './request-params';
import { completionSchema, parseBody } from './schemas';
import { failStream, SseWriter } from './sse';
import type { ServedModel } from './context';

function completionLogprobs(served: ServedModel, infos: TokenInfo[], offset: number) {
  const tokens = infos.map((t) => served.tokenizer.tokenText(t.id));
  const text_offset: number[] = [];
  let at = offset;
  for (const t of tokens) {
    text_offset.push(at);
    at += t.length;
  }
  return {
    tokens,
    token_logprobs: infos.map((t) => t.logprob),
    top_logprobs: infos.map((t) =>
      Object.fromEntries(t.top.map((x) => [served.tokenizer.tokenText(x.id), x.logprob])),
    ),
    text_offset,
  };
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
  const first: unknown = Array.isArray(params.prompt) ? params.prompt[0] : undefined;
  const raw = typeof first === 'string' || Array.isArray(first) ? first : params.prompt;
  const promptText = typeof raw === 'string' ? raw : null;
  if (promptText === '') {
    throw badRequest('prompt is empty', 'prompt', 'empty_prompt');
  }
  const prompt = typeof raw === 'string' ? served.tokenizer.encode(raw) : (raw as number[]);
  const vocab = served.version.config.vocabSize;
  if (vocab !== null && prompt.some((t) => t >= vocab)) {
    throw badRequest(`prompt token ids must be below the vocabulary size ${vocab}`, 'prompt');
  }
  const maxTokens = fitContext(served, prompt.length, params.max_tokens, 16);
  const echo = params.echo === true ? (promptText ?? served.tokenizer.decode(prompt)) : '';
  const id = `cmpl-${randomUUID()}`;
  const created = Math.floor(Date.now() / 1000);
  const model = params.model;
  const stream = params.stream === true;
  const sse = stream ? new SseWriter(res) : null;
  const logprobs = params.logprobs ?? null;
  const echoed = new Set<number>();
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
      prompt,
      maxTokens,
      ...requestOptions(ctx, served, params),
      logprobs,
      signal,
      onDelta: sse
        ? (index, text, infos) => {
            const prefix = echo && !echoed.has(index) ? echo : '';
            echoed.add(index);
            const lp = logprobs === null ? null : completionLogprobs(served, infos, 0);
            sse.send(chunk([{ index, text: prefix + text, logprobs: lp, finish_reason: null }]));
          }
        : undefined,
    });
  } catch (err) {
    failStream(sse, err);
    return;
  }
  const usage = usageOf(prompt.length, results);
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
  sendJson(
    res,
    200,
    chunk(
      results.map((r) => ({
        index: r.index,
        text: echo + r.text,
        logprobs: logprobs === null ? null : completionLogprobs(served, r.logprobs, echo.length),
        finish_reason: r.finishReason,
      })),
      { usage },
    ),
  );
}
