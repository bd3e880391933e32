/**
 * One streamed completion from one backend with the official `openai` client. Streaming is used
 * for every feature, also when the caller wants the whole text, because it gives the time to the
 * first token and lets us answer as soon as the suggestion is complete.
 */
import OpenAI from 'openai';
import type { Backend } from './backend-pool';

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

export interface BackendCallParams {
  model: string;
  prompt: string;
  maxTokens: number;
  stop: string[];
  /**
   * Ask the backend to keep the matched stop string in its text (vLLM's
   * `include_stop_str_in_output`): a sentence end can then be a stop, and the usage chunk still
   * follows. Only for backends known to honour it (see stop-probe.ts).
   */
  keepStops?: boolean;
  /**
   * Ask the backend to keep the prompt's last tokens that fit its context (vLLM's
   * `truncate_prompt_tokens: -1`) rather than refuse a prompt that is too long.
   */
  truncatePrompt?: boolean;
  temperature: number;
  seed: number;
  /** Speculative draft for the worker (OpenAI Predicted Outputs); the selection for a rewrite. */
  prediction?: string;
  traceparent: string;
  /** Aborts the HTTP request (and with it the worker's generation) until the answer is complete. */
  signal: AbortSignal;
  timeoutMs: number;
  /** Each piece of text as it arrives; returns true when the text is complete (answer now). */
  onDelta?: (text: string, soFar: string) => boolean | void;
  /** After an early answer, how long the rest of the stream may take to bring its usage. */
  drainMs?: number;
}

export interface BackendCallResult {
  text: string;
  promptTokens: number | null;
  completionTokens: number | null;
  ttftMs: number | null;
  /** We answered before the stream ended because the suggestion was complete. */
  cutEarly: boolean;
  /**
   * After an early answer: the usage the backend reports once the rest of its stream is read
   * (null when it never came, e.g. the drain ran out of time).
   */
  laterUsage: Promise<TokenUsage | null> | null;
}

export type CallFailureKind = 'aborted' | 'timeout' | 'overloaded' | 'rejected' | 'error';

export class BackendCallError extends Error {
  override name = 'BackendCallError';
  constructor(
    readonly kind: CallFailureKind,
    message: string,
  ) {
    super(message);
  }
  /** Whether this tells something bad about the backend (counts against its circuit). */
  get countsAsFailure(): boolean {
    return this.kind === 'timeout' || this.kind === 'overloaded' || this.kind === 'error';
  }
}

export function classifyError(
  error: unknown,
  signal: AbortSignal,
  callerAborted: () => boolean,
): BackendCallError {
  if (error instanceof BackendCallError) return error;
  if (callerAborted()) return new BackendCallError('aborted', 'aborted by the caller');
  if (signal.aborted || error instanceof OpenAI.APIConnectionTimeoutError)
    return new BackendCallError('timeout', 'latency budget exceeded');
  if (error instanceof OpenAI.APIError && typeof error.status === 'number') {
    const message = `HTTP ${error.status}: ${error.message}`.slice(0, 500);
    if (error.status === 503 || error.status === 429)
      return new BackendCallError('overloaded', message);
    if (error.status >= 400 && error.status < 500) return new BackendCallError('rejected', message);
    return new BackendCallError('error', message);
  }
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new BackendCallError('error', message.slice(0, 500));
}

type Chunk = OpenAI.Completions.Completion;
const DEFAULT_DRAIN_MS = 5000;

const usageOf = (usage: OpenAI.CompletionUsage | undefined): TokenUsage | null =>
  usage ? { promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens } : null;

/**
 * Reads the rest of a stream we answered from early, for its usage chunk, then lets it go. The
 * backend's own stop (or max_tokens) ends it; `abort` ends it after `ms` at the latest.
 */
async function drainForUsage(
  chunks: AsyncIterator<Chunk, unknown>,
  abort: AbortController,
  ms: number,
): Promise<TokenUsage | null> {
  const timer = setTimeout(() => abort.abort(), ms);
  let usage: OpenAI.CompletionUsage | undefined;
  try {
    for (;;) {
      const next = await chunks.next();
      if (next.done) return usageOf(usage);
      if (next.value.usage) usage = next.value.usage;
    }
  } catch {
    return usageOf(usage); // aborted or dropped: whatever came, probably nothing
  } finally {
    clearTimeout(timer);
  }
}

export async function callBackend(
  backend: Backend,
  params: BackendCallParams,
  callerAborted: () => boolean,
): Promise<BackendCallResult> {
  const started = performance.now();
  let text = '';
  let ttftMs: number | null = null;
  let usage: OpenAI.CompletionUsage | undefined;
  // The HTTP request's own abort: follows the caller's signal until the answer is complete, so a
  // stream drained for its usage after an early answer is not cut by a later keystroke.
  const http = new AbortController();
  const follow = () => http.abort();
  params.signal.addEventListener('abort', follow, { once: true });
  try {
    if (params.signal.aborted)
      throw new BackendCallError(callerAborted() ? 'aborted' : 'timeout', 'no time left');
    const body: OpenAI.CompletionCreateParamsStreaming & {
      prediction?: unknown;
      include_stop_str_in_output?: boolean;
      truncate_prompt_tokens?: number;
    } = {
      model: params.model,
      prompt: params.prompt,
      max_tokens: params.maxTokens,
      stop: params.stop.length ? params.stop : null,
      temperature: params.temperature,
      seed: params.seed,
      stream: true,
      stream_options: { include_usage: true },
      // Not in the client's types for completions (it is for chat), but sent as given.
      ...(params.prediction ? { prediction: { type: 'content', content: params.prediction } } : {}),
      ...(params.keepStops ? { include_stop_str_in_output: true } : {}),
      ...(params.truncatePrompt ? { truncate_prompt_tokens: -1 } : {}),
    };
    const stream = await backend.client.completions.create(body, {
      signal: http.signal,
      timeout: params.timeoutMs,
      headers: { traceparent: params.traceparent },
    });
    // Read by hand rather than `for await`: leaving that loop would close the stream, and an
    // early answer still wants the usage that ends it.
    const chunks: AsyncIterator<Chunk, unknown> = stream[Symbol.asyncIterator]();
    for (;;) {
      const next = await chunks.next();
      if (next.done) break;
      const chunk = next.value;
      if (chunk.usage) usage = chunk.usage;
      const piece = chunk.choices[0]?.text ?? '';
      if (piece === '') continue;
      ttftMs ??= performance.now() - started;
      text += piece;
      if (params.onDelta?.(piece, text) === true) {
        params.signal.removeEventListener('abort', follow);
        return {
          text,
          promptTokens: usage?.prompt_tokens ?? null,
          completionTokens: usage?.completion_tokens ?? null,
          ttftMs,
          cutEarly: true,
          laterUsage: drainForUsage(chunks, http, params.drainMs ?? DEFAULT_DRAIN_MS),
        };
      }
    }
    // The client ends a stream quietly when its signal aborts: a cut-off text is not an answer.
    if (params.signal.aborted) {
      throw new BackendCallError(callerAborted() ? 'aborted' : 'timeout', 'stream cut off');
    }
    return {
      text,
      promptTokens: usage?.prompt_tokens ?? null,
      completionTokens: usage?.completion_tokens ?? null,
      ttftMs,
      cutEarly: false,
      laterUsage: null,
    };
  } catch (error) {
    const failure = classifyError(error, params.signal, callerAborted);
    // A backend that does not know the field (a hosted API answers 400 naming it): this request
    // goes to the next backend or tier, later ones to this backend go without it.
    if (
      params.truncatePrompt &&
      failure.kind === 'rejected' &&
      /truncate_prompt_tokens/.test(failure.message)
    )
      backend.takesPromptTruncation = false;
    throw failure;
  } finally {
    params.signal.removeEventListener('abort', follow);
  }
}
