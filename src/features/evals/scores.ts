/**
 * Per-example scores of a candidate's suggestion against what the user kept. Pure (no I/O), so the
 * console can show the definitions and the tests can check them on hand-made examples.
 */
import { normalizedEditDistance } from '~/lib/edit-distance';

/** The first word (whitespace-separated), ignoring leading whitespace; '' when there is none. */
export function firstWord(text: string): string {
  return text.trim().split(/\s+/u)[0] ?? '';
}

/** Whitespace at the ends does not count: ghost text and kept text differ there for layout only. */
export function exactMatch(candidate: string, kept: string): boolean {
  return candidate.trim() === kept.trim();
}

export function firstWordMatch(candidate: string, kept: string): boolean {
  const word = firstWord(kept);
  return word !== '' && firstWord(candidate) === word;
}

/** Character n-gram counts of orders 1..maxOrder, whitespace removed, by code point. */
function charNgrams(text: string, maxOrder: number): Map<string, number>[] {
  const chars = Array.from(text.replace(/\s+/gu, ''));
  const counters: Map<string, number>[] = [];
  for (let n = 1; n <= maxOrder; n++) {
    const counts = new Map<string, number>();
    for (let i = 0; i + n <= chars.length; i++) {
      const gram = chars.slice(i, i + n).join('');
      counts.set(gram, (counts.get(gram) ?? 0) + 1);
    }
    counters.push(counts);
  }
  return counters;
}

export const CHRF_CHAR_ORDER = 6;
export const CHRF_BETA = 2;

/**
 * chrF (Popović 2015): character n-gram precision and recall for n = 1..6, averaged over the
 * orders both texts have, combined as F-β with β = 2 (recall weighs twice as much), 0–100.
 * Whitespace is ignored and orders missing from either text are left out of the averages, as in
 * sacreBLEU's sentence chrF (`nc:6|nw:0|space:no|eff:yes`), whose values the tests reproduce.
 */
export function chrF(candidate: string, reference: string, beta = CHRF_BETA): number {
  const hyp = charNgrams(candidate, CHRF_CHAR_ORDER);
  const ref = charNgrams(reference, CHRF_CHAR_ORDER);
  let precisionSum = 0;
  let recallSum = 0;
  let orders = 0;
  for (let i = 0; i < CHRF_CHAR_ORDER; i++) {
    const h = hyp[i]!;
    const r = ref[i]!;
    let nHyp = 0;
    let nRef = 0;
    let nMatch = 0;
    for (const c of h.values()) nHyp += c;
    for (const [gram, c] of r) {
      nRef += c;
      nMatch += Math.min(c, h.get(gram) ?? 0);
    }
    if (nHyp === 0 || nRef === 0) continue;
    precisionSum += nMatch / nHyp;
    recallSum += nMatch / nRef;
    orders++;
  }
  if (orders === 0) return 0;
  const p = precisionSum / orders;
  const r = recallSum / orders;
  const f = beta * beta;
  return p + r === 0 ? 0 : (100 * ((1 + f) * p * r)) / (f * p + r);
}

/** Normalized Levenshtein distance (0 = same, 1 = nothing in common): the retention metric's. */
export function editDistanceScore(candidate: string, kept: string): number {
  return normalizedEditDistance(candidate, kept);
}

/** The legacy completions `logprobs` object (OpenAI, vLLM, the worker) for an echoed prompt. */
export interface EchoLogprobs {
  tokens: string[];
  token_logprobs: (number | null)[];
  text_offset: number[];
}

export type KeptLikelihood =
  { ok: true; total: number; tokens: number } | { ok: false; reason: string };

/**
 * The candidate's log-likelihood of `kept` after `context`, from an echo of `context + kept`:
 * the sum of the logprobs of the tokens that carry any character of the kept text (a token that
 * straddles the boundary counts, since the tokenizer may merge the join). Offsets are UTF-16
 * characters of the echoed text (JavaScript string indices, as the worker and OpenAI send them);
 * a token ends where the next one starts (the last at the text's end).
 */
export function keptLogLikelihood(
  logprobs: EchoLogprobs | null | undefined,
  context: { contextChars: number; totalChars: number },
): KeptLikelihood {
  if (!logprobs || !Array.isArray(logprobs.text_offset) || logprobs.text_offset.length === 0)
    return { ok: false, reason: 'the backend returned no prompt logprobs for echo' };
  const { tokens, token_logprobs: values, text_offset: offsets } = logprobs;
  if (values.length !== offsets.length || tokens.length !== offsets.length)
    return { ok: false, reason: 'the logprobs lists have different lengths' };
  let total = 0;
  let count = 0;
  for (let i = 0; i < offsets.length; i++) {
    const start = offsets[i]!;
    const end = i + 1 < offsets.length ? offsets[i + 1]! : context.totalChars;
    // In the kept text, or straddling the join. A zero-width token (the first byte piece of a
    // multi-byte character) shares its offset with the token that completes the character.
    const inside = start >= context.contextChars && start < context.totalChars;
    const straddles = start < context.contextChars && end > context.contextChars;
    if (!inside && !straddles) continue;
    const value = values[i];
    if (typeof value !== 'number' || !Number.isFinite(value))
      return {
        ok: false,
        reason:
          i === 0
            ? 'the kept text starts at the first token, which has no logprob'
            : 'the backend returned no logprob for a kept token',
      };
    total += value;
    count++;
  }
  if (count === 0)
    return { ok: false, reason: 'the echo did not cover the kept text (no prompt logprobs)' };
  return { ok: true, total, tokens: count };
}
