/**
 * Scores of prompts already scored (echo + logprobs), beside the KV prefix cache: the KV
 * cache alone cannot serve a scoring request, which needs every prompt position's logits. A
 * prompt that shares a prefix with a scored one reuses both that prefix's KV and its scores,
 * and prefills only the rest (scoring many texts after one context costs the context once).
 */
import { KvCacheManager } from './kv-cache';
import type { EmittedLogprob } from './protocol';

interface Scored {
  /** Top logprobs kept per position. */
  k: number;
  /** scores[i]: the score of prompt token i + 1. */
  scores: EmittedLogprob[];
}

/** Bytes one stored score takes, roughly (the token's own and k alternatives). */
const bytesOf = (k: number, n: number) => 64 + n * (k + 1) * 24;

export class PromptScoreCache {
  private readonly cache: KvCacheManager<Scored>;

  constructor(capacityBytes: number) {
    this.cache = new KvCacheManager(capacityBytes);
  }

  /**
   * Scores of `prompt`'s first tokens (tokens 1..r) reusable for a request that wants `k` top
   * logprobs, with r at most `limit`: scores of tokens that equal the stored prompt's up to and
   * including the scored token.
   */
  lookup(prompt: readonly number[], k: number, limit: number): EmittedLogprob[] {
    const hit = this.cache.lookup(prompt);
    if (!hit || hit.entry.payload.k < k) return [];
    const r = Math.min(limit, hit.length - 1, hit.entry.payload.scores.length);
    return hit.entry.payload.scores
      .slice(0, Math.max(0, r))
      .map((s) => ({ logprob: s.logprob, top: s.top.slice(0, k) }));
  }

  insert(prompt: readonly number[], k: number, scores: EmittedLogprob[]): void {
    this.cache.insert(Int32Array.from(prompt), { k, scores }, bytesOf(k, scores.length));
  }
}
