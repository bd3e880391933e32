/** POST /v1/chat/completions (prompt rendered with the model's chat template). */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { HttpContext } from './context';
import { badRequest, sendJson } from './errors';
import { generate, usageOf, type ChoiceResult } from './generate';
import { chatLogprobs } from './logprobs';
import { findModel, fitContext, requestOptions } from './request-params';
import { chatSchema, parseBody } from './schemas';
import { failStream, SseWriter } from './sse';

export async function handleChat(
  ctx: HttpContext,
  body: unknown,
  res: ServerResponse,
  _req: IncomingMessage,
  signal: AbortSignal,
): Promise<void> {
  const params = parseBody(chatSchema, body);
  const served = findModel(ctx, params.model);
  if (!served.tokenizer.chatTemplate) {
    throw badRequest(`model '${params.model}' has no chat_template; use /v1/completions`, 'model');
  }
  const messages = params.messages.map((m) => ({
    role: m.role,
    content:
      typeof m.content === 'string' ? m.content : (m.content ?? []).map((p) => p.text).join(''),
  }));
  let rendered: string;
  try {
    rendered = served.tokenizer.renderChat(messages);
  } catch (err) {
    throw badRequest(
      `chat template failed: ${err instanceof Error ? err.message : String(err)}`,
      'messages',
    );
  }
  const prompt = served.tokenizer.encode(rendered, false);
  const maxTokens = fitContext(served, {
    promptLength: prompt.length,
    maxTokens: params.max_completion_tokens ?? params.max_tokens,
    fallback: served.version.config.contextLength,
  });
  const wantLogprobs = params.logprobs === true;
  const id = `chatcmpl-${randomUUID()}`;
  const created = Math.floor(Date.now() / 1000);
  const model = params.model;
  const sse = params.stream === true ? new SseWriter(res) : null;
  const started = new Set<number>();
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) => ({
    id,
    object: 'chat.completion.chunk',
    created,
    model,
    system_fingerprint: served.version.config.digest,
    choices,
    ...extra,
  });
  let results: ChoiceResult[];
  try {
    results = await generate({
      served,
      prompts: [{ prompt, maxTokens }],
      ...requestOptions(ctx, served, params),
      logprobs: wantLogprobs ? (params.top_logprobs ?? 0) : null,
      promptLogprobs: null,
      signal,
      onDelta: sse
        ? (index, text, infos) => {
            const delta: Record<string, string> = { content: text };
            if (!started.has(index)) delta.role = 'assistant';
            started.add(index);
            const logprobs = wantLogprobs ? chatLogprobs(served, infos) : null;
            sse.send(chunk([{ index, delta, logprobs, finish_reason: null }]));
          }
        : undefined,
    });
  } catch (err) {
    failStream(sse, err);
    return;
  }
  const usage = usageOf([{ prompt, maxTokens }], results);
  if (sse) {
    for (const r of results) {
      const delta = started.has(r.index) ? {} : { role: 'assistant', content: '' };
      sse.send(chunk([{ index: r.index, delta, logprobs: null, finish_reason: r.finishReason }]));
    }
    if (params.stream_options?.include_usage) sse.send(chunk([], { usage }));
    sse.done();
    return;
  }
  sendJson(res, 200, {
    id,
    object: 'chat.completion',
    created,
    model,
    system_fingerprint: served.version.config.digest,
    choices: results.map((r) => ({
      index: r.index,
      message: { role: 'assistant', content: r.text },
      logprobs: wantLogprobs ? chatLogprobs(served, r.logprobs) : null,
      finish_reason: r.finishReason,
    })),
    usage,
  });
}
