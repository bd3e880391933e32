/** POST /v1/chat/completions (prompt rendered with the model's chat template). */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpContext } from './context';
import { badRequest } from './errors';
import { chatLogprobs } from './logprobs';
import {
  findModel,
  fitContext,
  requestAttributes,
  requestOptions,
  truncatePrompt,
} from './request-params';
import { chatSchema, parseBody } from './schemas';
import { serve } from './serve';

export async function handleChat(
  ctx: HttpContext,
  body: unknown,
  res: ServerResponse,
  req: IncomingMessage,
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
  const requested = params.max_completion_tokens ?? params.max_tokens;
  const prompt = truncatePrompt(served, served.tokenizer.encode(rendered, false), {
    truncate: params.truncate_prompt_tokens,
    maxTokens: requested,
  });
  const maxTokens = fitContext(served, {
    promptLength: prompt.length,
    maxTokens: requested,
    fallback: served.version.config.contextLength,
  });
  const wantLogprobs = params.logprobs === true;
  const started = new Set<number>();
  const jobs = [{ prompt, maxTokens }];
  await serve({
    res,
    headers: req.headers,
    tracer: ctx.tracer,
    operation: 'chat',
    requestAttributes: requestAttributes(params, maxTokens),
    signal,
    served,
    model: params.model,
    jobs,
    stream: params.stream === true,
    includeUsage: params.stream_options?.include_usage === true,
    options: {
      ...requestOptions(ctx, served, params),
      logprobs: wantLogprobs ? (params.top_logprobs ?? 0) : null,
      promptLogprobs: null,
    },
    format: {
      idPrefix: 'chatcmpl',
      chunkObject: 'chat.completion.chunk',
      object: 'chat.completion',
      extra: { system_fingerprint: served.version.config.digest },
      delta: (index, text, infos) => {
        const delta: Record<string, string> = { content: text };
        if (!started.has(index)) delta.role = 'assistant';
        started.add(index);
        const logprobs = wantLogprobs ? chatLogprobs(served, infos) : null;
        return { index, delta, logprobs, finish_reason: null };
      },
      finish: (r) => ({
        index: r.index,
        delta: started.has(r.index) ? {} : { role: 'assistant', content: '' },
        logprobs: null,
        finish_reason: r.finishReason,
      }),
      whole: (r) => ({
        index: r.index,
        message: { role: 'assistant', content: r.text },
        logprobs: wantLogprobs ? chatLogprobs(served, r.logprobs) : null,
        finish_reason: r.finishReason,
      }),
    },
  });
}
