/**
 * Logprobs in OpenAI's two wire shapes: the legacy completions object
 * ({tokens, token_logprobs, top_logprobs, text_offset}) and chat's `content` list.
 */
import type { ServedModel } from './context';
import type { TokenLogprob } from '../engine/sampler';
import type { TokenInfo } from './generate';

/** A prompt token: the first one has no context, so no logprob (null, as OpenAI sends it). */
export type ScoredToken = TokenInfo | { id: number; logprob: null; top: null };

export interface CompletionLogprobs {
  tokens: string[];
  token_logprobs: (number | null)[];
  top_logprobs: (Record<string, number> | null)[];
  text_offset: number[];
}

const REPLACEMENT = /\uFFFD+$/;
/** Tokens of context decoded with each new one (a UTF-8 character spans at most 4 tokens). */
const WINDOW = 6;

/**
 * Character offsets of tokens in the text they decode to, continued across calls. Each
 * token's width is what it adds to the decoded text of a few tokens before it (so leading-space
 * rules of the first token and byte-level pieces of one character come out right): a token
 * that only starts a multi-byte character has width 0 and shares the offset of the token that
 * completes it.
 */
export class TokenOffsets {
  private readonly ids: number[] = [];

  constructor(
    private readonly decode: (ids: readonly number[]) => string,
    private at: number,
  ) {}

  push(ids: readonly number[]): number[] {
    const offsets: number[] = [];
    for (const id of ids) {
      const from = Math.max(0, this.ids.length - WINDOW);
      const before = this.decode(this.ids.slice(from)).replace(REPLACEMENT, '');
      this.ids.push(id);
      const after = this.decode(this.ids.slice(from)).replace(REPLACEMENT, '');
      offsets.push(this.at);
      this.at += Math.max(0, after.length - before.length);
    }
    return offsets;
  }
}

/**
 * How tokens are named: their text, or (vLLM's `return_tokens_as_token_ids`) "token_id:<id>",
 * which stays unambiguous where several ids decode to the same text (pieces of one UTF-8
 * character all read U+FFFD).
 */
export type TokenNaming = 'text' | 'id';

export function completionLogprobs(
  served: ServedModel,
  infos: readonly ScoredToken[],
  fmt: { offsets: readonly number[]; naming: TokenNaming },
): CompletionLogprobs {
  const name = (id: number) =>
    fmt.naming === 'id' ? `token_id:${id}` : served.tokenizer.tokenText(id);
  const top = (list: readonly TokenLogprob[]) => {
    // Best first: where texts collide, the likeliest token's logprob is the one kept.
    const dict: Record<string, number> = {};
    for (const x of list) dict[name(x.id)] ??= x.logprob;
    return dict;
  };
  return {
    tokens: infos.map((t) => name(t.id)),
    token_logprobs: infos.map((t) => t.logprob),
    top_logprobs: infos.map((t) => (t.top === null ? null : top(t.top))),
    text_offset: [...fmt.offsets],
  };
}

/** Merges two pieces of one choice's logprobs (the echoed prompt, then generated tokens). */
export function concatLogprobs(a: CompletionLogprobs, b: CompletionLogprobs): CompletionLogprobs {
  return {
    tokens: [...a.tokens, ...b.tokens],
    token_logprobs: [...a.token_logprobs, ...b.token_logprobs],
    top_logprobs: [...a.top_logprobs, ...b.top_logprobs],
    text_offset: [...a.text_offset, ...b.text_offset],
  };
}

export function chatLogprobs(served: ServedModel, infos: readonly TokenInfo[]) {
  const entry = (id: number, logprob: number) => {
    const token = served.tokenizer.tokenText(id);
    return { token, logprob, bytes: [...Buffer.from(token, 'utf8')] };
  };
  return {
    content: infos.map((t) => ({
      ...entry(t.id, t.logprob),
      top_logprobs: t.top.map((x) => entry(x.id, x.logprob)),
    })),
  };
}
