/**
 * One streamed completion from one backend with the official `openai` client. Streaming is used
 * for every feature, also when the caller wants the whole text, because it gives the time to the
 * first token and lets us stop the worker as soon as the suggestion is complete.
 */
import OpenAI from 'openai';
import type { Backend } from './backend-pool';

export interface BackendCallParams {
  model: string;
  prompt: string;
  maxTokens: number;
  stop: string[];
  temperature: number;
  seed: number;
  /** Speculative draft for the worker (OpenAI Predicted Outputs); the selection for a rewrite. */
  prediction?: string;
  traceparent: string;
  /** Aborts the HTTP request (and with it the worker's generation). */
  signal: AbortSignal;
  timeoutMs: number;
  /** Each piece of text as it arrives; returns true when the text is complete (stop early). */
  onDelta?: (text: string, soFar: string) => boolean | void;
}

export interface BackendCallResult {
  text: string;
  promptTokens: number | null;
  completionTokens: number | null;
  ttftMs: number | null;
  /** We stopped the stream ourselves because the suggestion was complete. */
  cutEarly: boolean;
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

export async function callBackend(
  backend: Backend,
  params: BackendCallParams,
  callerAborted: () => boolean,
): Promise<BackendCallResult> {
  const started = performance.now();
  let text = '';
  let ttftMs: number | null = null;
  let usage: OpenAI.CompletionUsage | undefined;
  let cutEarly = false;
  try {
    if (params.signal.aborted)
      throw new BackendCallError(callerAborted() ? 'aborted' : 'timeout', 'no time left');
    const body: OpenAI.CompletionCreateParamsStreaming & { prediction?: unknown } = {
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
    };
    const stream = await backend.client.completions.create(body, {
      signal: params.signal,
      timeout: params.timeoutMs,
      headers: { traceparent: params.traceparent },
    });
    for await (const chunk of stream) {
      if (chunk.usage) usage = chunk.usage;
      const piece = chunk.choices[0]?.text ?? '';
      if (piece === '') continue;
      ttftMs ??= performance.now() - started;
      text += piece;
      if (params.onDelta?.(piece, text) === true) {
        cutEarly = true;
        break; // leaving the loop aborts the response (the client's own controller): slot freed
      }
    }
    // The client ends a stream quietly when its signal aborts: a cut-off text is not an answer.
    if (!cutEarly && params.signal.aborted) {
      throw new BackendCallError(callerAborted() ? 'aborted' : 'timeout', 'stream cut off');
    }
    return {
      text,
      promptTokens: usage?.prompt_tokens ?? null,
      completionTokens: usage?.completion_tokens ?? null,
      ttftMs,
      cutEarly,
    };
  } catch (error) {
    throw classifyError(error, params.signal, callerAborted);
  }
}
