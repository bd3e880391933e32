/**
 * The one serving path of the OpenAI-compatible routes: generate every choice, stream it as
 * SSE chunks or answer one JSON object, with usage. A route says only how its choices look on
 * the wire (`ChoiceFormat`).
 */
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { ServedModel } from './context';
import { sendJson, toApiError } from './errors';
import {
  ClientGoneError,
  generate,
  usageOf,
  type ChoiceResult,
  type GenerateOptions,
  type PromptJob,
  type TokenInfo,
} from './generate';
import { failStream, SseWriter } from './sse';
import type { RequestTracer, TraceAttributes } from '../tracing/types';

/** How one route's choices and objects look; everything else is shared. */
export interface ChoiceFormat {
  idPrefix: 'cmpl' | 'chatcmpl';
  /** `object` of streamed chunks, and of the whole answer. */
  chunkObject: string;
  object: string;
  /** Top-level fields beyond id, object, created, model (chat: system_fingerprint). */
  extra: Record<string, unknown>;
  /** Streaming: a choice to send once a prompt is admitted (completions' echo), if any. */
  prompt?: (index: number, scores: TokenInfo[] | null) => unknown;
  /** Streaming: a choice carrying a piece of text. */
  delta: (index: number, text: string, infos: TokenInfo[]) => unknown;
  /** Streaming: the last choice of a generation (with its finish_reason). */
  finish: (result: ChoiceResult) => unknown;
  /** Not streaming: a whole choice. */
  whole: (result: ChoiceResult) => unknown;
}

export interface ServeRequest {
  res: ServerResponse;
  /** The caller's headers (W3C trace context). */
  headers: IncomingHttpHeaders;
  tracer: RequestTracer | null;
  /** GenAI operation name, and the request parameters as span attributes. */
  operation: 'text_completion' | 'chat';
  requestAttributes: TraceAttributes;
  signal: AbortSignal;
  served: ServedModel;
  /** The model id as the caller named it (echoed in `model`). */
  model: string;
  jobs: PromptJob[];
  stream: boolean;
  includeUsage: boolean;
  options: Omit<GenerateOptions, 'served' | 'prompts' | 'signal' | 'onPrompt' | 'onDelta'>;
  format: ChoiceFormat;
}

export async function serve(req: ServeRequest): Promise<void> {
  const { format } = req;
  const id = `${format.idPrefix}-${randomUUID()}`;
  const created = Math.floor(Date.now() / 1000);
  const head = (object: string) => ({ id, object, created, model: req.model, ...format.extra });
  const sse = req.stream ? new SseWriter(req.res) : null;
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) => ({
    ...head(format.chunkObject),
    choices,
    ...extra,
  });
  const prompt = format.prompt;
  const trace =
    req.tracer?.start({
      headers: req.headers,
      operation: req.operation,
      model: req.model,
      attributes: req.requestAttributes,
    }) ?? null;
  let results: ChoiceResult[];
  try {
    results = await generate({
      ...req.options,
      trace,
      served: req.served,
      prompts: req.jobs,
      signal: req.signal,
      onPrompt:
        sse && prompt ? (index, scores) => sse.send(chunk([prompt(index, scores)])) : undefined,
      onDelta: sse
        ? (index, text, infos) => sse.send(chunk([format.delta(index, text, infos)]))
        : undefined,
    });
  } catch (err) {
    if (trace) {
      const e = toApiError(err);
      const type = err instanceof ClientGoneError ? 'client_disconnected' : (e.code ?? e.type);
      trace.end({ attributes: {}, error: type });
    }
    failStream(sse, err);
    return;
  }
  const usage = usageOf(req.jobs, results);
  trace?.end({
    attributes: {
      'gen_ai.response.id': id,
      'gen_ai.response.model': req.served.version.id,
      'gen_ai.response.finish_reasons': results.map((r) => r.finishReason),
      'gen_ai.usage.input_tokens': usage.prompt_tokens,
      'gen_ai.usage.output_tokens': usage.completion_tokens,
      'gen_ai.usage.cache_read.input_tokens': usage.prompt_tokens_details.cached_tokens,
    },
  });
  if (sse) {
    for (const r of results) sse.send(chunk([format.finish(r)]));
    if (req.includeUsage) sse.send(chunk([], { usage }));
    sse.done();
    return;
  }
  sendJson(req.res, 200, {
    ...head(format.object),
    choices: results.map((r) => format.whole(r)),
    usage,
  });
}
