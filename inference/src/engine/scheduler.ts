/**
 * The scheduler is a pure decision function: given what is decoding, what is part-way through
 * prefill and what waits, it says what to admit, how many prompt tokens each prefilling
 * sequence gets this step (chunked prefill), and whether the decoding batch steps.
 */
export interface WaitingRequest {
  id: string;
  /** Prompt tokens still to prefill (after any prefix-cache hit). */
  newTokens: number;
  /** KV bytes the request may need at most (prompt + max_tokens). */
  bytes: number;
}

export interface PrefillingRequest {
  id: string;
  remaining: number;
}

export interface SchedulerInput {
  decoding: number;
  prefilling: readonly PrefillingRequest[];
  waiting: readonly WaitingRequest[];
  maxBatch: number;
  /** Prompt tokens prefilled per step, across sequences. */
  prefillBudget: number;
  /** KV bytes still unreserved (the prefix cache is evictable and counts as free). */
  freeBytes: number;
  /** The KV budget as a whole: a request needing more can never run. */
  capacityBytes: number;
}

export interface SchedulerDecision {
  admit: string[];
  reject: string[];
  prefill: { id: string; tokens: number }[];
  decode: boolean;
}

export function schedule(input: SchedulerInput): SchedulerDecision {
  const admit: string[] = [];
  const reject: string[] = [];
  let slots = input.maxBatch - input.decoding - input.prefilling.length;
  let free = input.freeBytes;
  for (const w of input.waiting) {
    if (w.bytes > input.capacityBytes) {
      reject.push(w.id);
      continue;
    }
    if (slots <= 0 || w.bytes > free) break; // first come, first served: no overtaking
    admit.push(w.id);
    free -= w.bytes;
    slots--;
  }
  const queue: PrefillingRequest[] = [...input.prefilling];
  for (const id of admit) {
    const w = input.waiting.find((x) => x.id === id);
    if (w) queue.push({ id, remaining: w.newTokens });
  }
  const prefill: { id: string; tokens: number }[] = [];
  let budget = Math.max(1, input.prefillBudget);
  for (const p of queue) {
    if (budget <= 0) break;
    const tokens = Math.min(p.remaining, budget);
    if (tokens <= 0) continue;
    prefill.push({ id: p.id, tokens });
    budget -= tokens;
  }
  return { admit, reject, prefill, decode: input.decoding > 0 };
}
