/**
 * The one serving path of the OpenAI-compatible routes: generate every choice, stream it as
 * SSE chunks or answer one JSON object, with usage. A route says only how its choices look on
 * the wire (`ChoiceFormat`).
 */
import type { ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { ServedModel } from './context';
import { sendJson } from './errors';
import {
  generate,
  usageOf,
  type ChoiceResult,
  type GenerateOptions,
  type PromptJob,
  type TokenInfo,
} from './generate';
import { failStream, SseWriter } from './sse';

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
  let results: ChoiceResult[];
  try {
    results = await generate({
      ...req.options,
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
    failStream(sse, err);
    return;
  }
  const usage = usageOf(req.jobs, results);
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
