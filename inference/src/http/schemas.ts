/** Request bodies of the OpenAI-compatible routes (unknown fields are ignored, as OpenAI does). */
import { z } from 'zod';
import { badRequest } from './errors';

const tokenArray = z.array(z.number().int().min(0)).min(1);

const prediction = z
  .object({
    type: z.literal('content'),
    content: z.union([
      z.string(),
      z.array(z.object({ type: z.literal('text'), text: z.string() })),
    ]),
  })
  .nullish();

const common = {
  model: z.string().min(1),
  max_tokens: z.number().int().min(1).max(1_000_000).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  top_k: z.number().int().min(-1).nullish(),
  seed: z.number().int().min(-Number.MAX_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER).nullish(),
  stop: z.union([z.string().min(1), z.array(z.string().min(1)).max(4)]).nullish(),
  n: z.number().int().min(1).max(16).nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
  prediction,
  /** Extension: turn the n-gram draft off for this request (it is on by default). */
  speculative: z.boolean().nullish(),
  /** Extension (as vLLM): generate max_tokens even past end-of-sequence tokens. */
  ignore_eos: z.boolean().nullish(),
  /** Extension (as vLLM): a stop sequence ends the text but stays in it. */
  include_stop_str_in_output: z.boolean().nullish(),
  /**
   * Extension (as vLLM): keep only the prompt's last k tokens; -1 keeps as many as fit the
   * context with room for max_tokens (see truncatePrompt in request-params.ts).
   */
  truncate_prompt_tokens: z
    .number()
    .int()
    .min(-1)
    .refine((k) => k !== 0, 'must be -1 (as many as fit) or at least 1')
    .nullish(),
};

/** Prompts one completions request may carry (one choice each, times `n`). */
export const MAX_PROMPTS = 32;

export const completionSchema = z.looseObject({
  ...common,
  /** 0 only with `echo`: score the prompt without generating. */
  max_tokens: z.number().int().min(0).max(1_000_000).nullish(),
  prompt: z.union([
    z.string(),
    z.array(z.string()).min(1).max(MAX_PROMPTS),
    tokenArray,
    z.array(tokenArray).min(1).max(MAX_PROMPTS),
  ]),
  logprobs: z.number().int().min(0).max(20).nullish(),
  echo: z.boolean().nullish(),
  /** Extension (as vLLM): name tokens "token_id:<id>" in logprobs, unambiguous for scorers. */
  return_tokens_as_token_ids: z.boolean().nullish(),
});

const contentPart = z.object({ type: z.literal('text'), text: z.string() });

export const chatSchema = z.looseObject({
  ...common,
  max_completion_tokens: z.number().int().min(1).max(1_000_000).nullish(),
  messages: z
    .array(
      z.object({
        role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
        content: z.union([z.string(), z.array(contentPart), z.null()]),
        name: z.string().optional(),
      }),
    )
    .min(1),
  logprobs: z.boolean().nullish(),
  top_logprobs: z.number().int().min(0).max(20).nullish(),
});

export type CompletionBody = z.infer<typeof completionSchema>;

/** Validates `body` or throws a 400 naming the first offending parameter. */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badRequest('request body must be a JSON object');
  }
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const param = issue?.path.length ? issue.path.map(String).join('.') : null;
  throw badRequest(`${param ?? 'body'}: ${issue?.message ?? 'invalid value'}`, param);
}

export type PredictionParam = z.infer<typeof prediction>;
export const predictionText = (p: PredictionParam): string | null =>
  p ? (typeof p.content === 'string' ? p.content : p.content.map((c) => c.text).join('')) : null;
