/** Turns validated OpenAI parameters into engine parameters (shared by both routes). */
import type { SamplingParams } from '../engine/sampler';
import type { HttpContext, ServedModel } from './context';
import { ApiError, badRequest } from './errors';
import type { GenerateOptions } from './generate';
import { predictionText, type PredictionParam } from './schemas';
import type { TraceAttributes } from '../tracing/types';

export function findModel(ctx: HttpContext, id: string): ServedModel {
  const entry = ctx.registry.resolve(id);
  if (!entry || (entry.unloaded && !entry.served)) {
    throw new ApiError(
      404,
      entry ? `The model '${id}' is not loaded` : `The model '${id}' does not exist`,
      'invalid_request_error',
      'model_not_found',
      'model',
    );
  }
  const served = entry.served;
  if (!served || !served.engine.ready) {
    const failed = entry.state === 'UNAVAILABLE';
    throw new ApiError(
      503,
      failed
        ? `model '${id}' failed to load: ${entry.reason}`
        : `model '${id}' is not ready (${entry.state.toLowerCase()})`,
      'server_error',
      failed ? 'model_unavailable' : 'model_not_ready',
      'model',
      { 'retry-after': failed ? '30' : '5' },
    );
  }
  return served;
}

export interface CommonParams {
  max_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  top_k?: number | null;
  stop?: string | string[] | null;
}

/** The request's parameters as GenAI span attributes (`gen_ai.request.*`), those given only. */
export function requestAttributes(
  params: GenerationParams & { stream?: boolean | null },
  maxTokens: number,
): TraceAttributes {
  const attrs: TraceAttributes = {
    'gen_ai.request.max_tokens': maxTokens,
    'gen_ai.request.stream': params.stream === true,
  };
  const put = (key: string, value: number | null | undefined) => {
    if (value !== null && value !== undefined) attrs[`gen_ai.request.${key}`] = value;
  };
  put('temperature', params.temperature);
  put('top_p', params.top_p);
  put('top_k', params.top_k);
  put('seed', params.seed);
  if ((params.n ?? 1) !== 1) put('choice.count', params.n);
  const stops = stopsOf(params);
  if (stops.length > 0) attrs['gen_ai.request.stop_sequences'] = stops;
  return attrs;
}

export interface GenerationParams extends CommonParams {
  seed?: number | null;
  n?: number | null;
  prediction?: PredictionParam;
  speculative?: boolean | null;
  ignore_eos?: boolean | null;
  include_stop_str_in_output?: boolean | null;
}

/** The options of `generate()` that completions and chat read from a request the same way. */
export function requestOptions(
  ctx: HttpContext,
  served: ServedModel,
  params: GenerationParams,
): Pick<
  GenerateOptions,
  | 'sampling'
  | 'seed'
  | 'n'
  | 'stops'
  | 'includeStop'
  | 'prediction'
  | 'speculate'
  | 'ignoreEos'
  | 'metrics'
> {
  const prediction = predictionText(params.prediction);
  return {
    sampling: samplingOf(params),
    seed: params.seed ?? null,
    n: params.n ?? 1,
    stops: stopsOf(params),
    includeStop: params.include_stop_str_in_output === true,
    prediction: prediction ? served.tokenizer.encode(prediction, false) : null,
    speculate: params.speculative !== false,
    ignoreEos: params.ignore_eos === true,
    metrics: ctx.metrics,
  };
}

function samplingOf(body: CommonParams): SamplingParams {
  return {
    temperature: body.temperature ?? 1,
    topP: body.top_p ?? 1,
    topK: body.top_k !== null && body.top_k !== undefined && body.top_k > 0 ? body.top_k : 0,
  };
}

function stopsOf(body: CommonParams): string[] {
  return body.stop === null || body.stop === undefined
    ? []
    : typeof body.stop === 'string'
      ? [body.stop]
      : body.stop;
}

/**
 * `truncate_prompt_tokens` (as vLLM's completions and chat): k ≥ 1 keeps the prompt's last k
 * tokens; -1 keeps as many last tokens as fit the context with room for max_tokens (16 when it
 * is not given). We follow vLLM's newer semantics (vllm/renderers/params.py, TokenizeParams):
 * -1 maps to max_input_tokens = context − max_tokens, and k over that is a 400, not a silent
 * clamp. Truncation is from the left: a completion continues the prompt's end.
 */
export function truncatePrompt(
  served: ServedModel,
  ids: number[],
  t: { truncate: number | null | undefined; maxTokens: number | null | undefined },
): number[] {
  const { truncate, maxTokens } = t;
  if (truncate === null || truncate === undefined) return ids;
  const context = served.version.config.contextLength;
  const room = maxTokens ?? Math.min(16, context - 1);
  // max_tokens over the context: fitContext says so with its own message.
  if (room > context) return ids;
  const budget = context - room;
  if (budget < 1) {
    throw badRequest(
      `max_tokens is ${room}, which leaves no room for the prompt in this model's context of ${context} tokens.`,
      'max_tokens',
      'context_length_exceeded',
    );
  }
  if (truncate > budget) {
    throw badRequest(
      `truncate_prompt_tokens is ${truncate}, but this model's context of ${context} tokens ` +
        `less max_tokens ${room} leaves room for ${budget} prompt tokens; ask for at most ${budget}, or -1.`,
      'truncate_prompt_tokens',
      'context_length_exceeded',
    );
  }
  const keep = truncate === -1 ? budget : truncate;
  return ids.length > keep ? ids.slice(-keep) : ids;
}

/** Checks a prompt against the context; returns max_tokens clamped to the room left. */
export function fitContext(
  served: ServedModel,
  fit: {
    promptLength: number;
    maxTokens: number | null | undefined;
    fallback: number;
    /** Names the prompt in messages when a request has several ("prompt 3"). */
    label?: string;
  },
): number {
  const { promptLength, maxTokens, fallback, label = 'the prompt' } = fit;
  const context = served.version.config.contextLength;
  if (promptLength === 0) throw badRequest(`${label} is empty`, 'prompt', 'empty_prompt');
  // Scoring only (max_tokens 0) needs no room after the prompt.
  const limit = maxTokens === 0 ? context : context - 1;
  if (promptLength > limit) {
    throw badRequest(
      `This model's maximum context length is ${context} tokens, but ${label} has ${promptLength} tokens` +
        (maxTokens === 0 ? '.' : ' (and needs room for at least one generated token).'),
      'prompt',
      'context_length_exceeded',
    );
  }
  if (maxTokens !== null && maxTokens !== undefined && maxTokens > context) {
    throw badRequest(
      `max_tokens is ${maxTokens}, but this model's maximum context length is ${context} tokens.`,
      'max_tokens',
      'context_length_exceeded',
    );
  }
  return Math.min(maxTokens ?? fallback, context - promptLength);
}
