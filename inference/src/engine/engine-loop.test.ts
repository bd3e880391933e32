import { describe, expect, it } from 'vitest';
import type { Runner } from './batch';
import { Engine, type EngineOptions } from './engine-loop';
import type { KvArray } from './kv-tensors';
import type { ForwardInput, ForwardOutput } from './model-runner';
import type { FromEngine, GenerationRequest } from './protocol';

const V = 23;
/** The "model": next-token logits from the tokens it attends to (order matters). */
function truth(tokens: readonly number[]): Float32Array {
  const n = tokens.length;
  const a = tokens[n - 1] ?? 0;
  const b = tokens[n - 2] ?? 0;
  const next = (a * 3 + b * 5 + (n % 4 === 0 ? 1 : 0)) % V;
  const logits = new Float32Array(V);
  logits[next] = 4;
  logits[(next + 7) % V] = 3;
  logits[(next + 11) % V] = 2.5;
  return logits;
}

/**
 * A fake decoder honouring the Optimum contract: KV column = (token, position). Each query
 * attends to the valid past columns and the valid new columns up to itself; positions must
 * count the attended tokens, so any masking or position bug changes the output or throws.
 * Without `position_ids` (Gemma-style) a new token's position is its physical column, as
 * such exports compute it from the past's length.
 */
class FakeRunner implements Runner {
  readonly shape = { numLayers: 1, kvHeads: 1, headDim: 2, dtype: 'float32' as const };
  calls = 0;
  maxBatch = 0;
  constructor(readonly takesPositionIds = true) {}
  async forward(input: ForwardInput): Promise<ForwardOutput> {
    this.calls++;
    this.maxBatch = Math.max(this.maxBatch, input.batch);
    const { batch, seqLen, past } = input;
    const P = past.length;
    const T = P + seqLen;
    const arrays: KvArray[] = [new Float32Array(batch * T * 2), new Float32Array(batch * T * 2)];
    const logits = new Float32Array(batch * seqLen * V);
    for (let b = 0; b < batch; b++) {
      const cols: [number, number][] = [];
      for (let c = 0; c < T; c++) {
        const entry: [number, number] =
          c < P
            ? [past.arrays[0]![(b * P + c) * 2]!, past.arrays[0]![(b * P + c) * 2 + 1]!]
            : [
                Number(input.inputIds[b * seqLen + c - P]),
                this.takesPositionIds ? Number(input.positionIds[b * seqLen + c - P]) : c,
              ];
        cols.push(entry);
        for (const a of arrays) a.set(entry, (b * T + c) * 2);
      }
      for (let j = 0; j < seqLen; j++) {
        if (input.attentionMask[b * T + P + j] !== 1n) continue; // padding query
        const seen = cols.filter((_, c) => c <= P + j && input.attentionMask[b * T + c] === 1n);
        seen.forEach(([, pos], i) => {
          if (pos !== i) throw new Error(`position ${pos} at index ${i}`);
        });
        logits.set(truth(seen.map(([t]) => t)), (b * seqLen + j) * V);
      }
    }
    await Promise.resolve();
    return { logits, keptPositions: seqLen, vocab: V, present: { arrays, batch, length: T } };
  }
}

function greedyReference(prompt: number[], maxTokens: number): number[] {
  const seq = [...prompt];
  const out: number[] = [];
  for (let i = 0; i < maxTokens; i++) {
    const logits = truth(seq);
    const next = logits.indexOf(Math.max(...logits));
    seq.push(next);
    out.push(next);
  }
  return out;
}

const options: EngineOptions = {
  contextLength: 256,
  eos: [],
  maxBatch: 8,
  maxQueue: 100,
  kvCacheBytes: 1 << 20,
  maxDraft: 4,
  prefillChunk: 7,
};

function harness(opts: Partial<EngineOptions> = {}, takesPositionIds = true) {
  const runner = new FakeRunner(takesPositionIds);
  const events: FromEngine[] = [];
  const engine = new Engine(runner, { ...options, ...opts }, (m) => events.push(m));
  const outputs = new Map<string, number[]>();
  const done = new Map<string, string>();
  const admitted = new Map<string, number>();
  const drain = async (limit = 10_000) => {
    for (let i = 0; i < limit && !engine.idle; i++) {
      await engine.step();
      for (const e of events.splice(0)) {
        if (e.type === 'tokens') outputs.set(e.id, [...(outputs.get(e.id) ?? []), ...e.tokens]);
        if (e.type === 'done') done.set(e.id, e.reason);
        if (e.type === 'admitted') admitted.set(e.id, e.cachedTokens);
      }
    }
  };
  return { runner, engine, outputs, done, admitted, drain, events };
}

const req = (
  id: string,
  prompt: number[],
  extra: Partial<GenerationRequest> = {},
): GenerationRequest => ({
  id,
  prompt,
  maxTokens: 30,
  sampling: { temperature: 0, topP: 1, topK: 0 },
  seed: 7,
  stream: 0,
  logprobs: null,
  prediction: null,
  speculate: true,
  ignoreEos: false,
  ...extra,
});

const prompts = [
  [1, 2, 3],
  [4, 5, 6, 7, 8, 9, 10, 11, 12, 13],
  [2],
  [9, 9, 9, 9, 9],
  [3, 1, 4, 1, 5, 9, 2, 6],
];

describe('engine (fake model)', () => {
  it.each([true, false])(
    'batched greedy output equals plain greedy decoding (speculate=%s)',
    async (speculate) => {
      const h = harness();
      prompts.forEach((p, i) => h.engine.submit(req(`r${i}`, p, { speculate })));
      await h.drain();
      prompts.forEach((p, i) => expect(h.outputs.get(`r${i}`)).toEqual(greedyReference(p, 30)));
      expect(h.runner.maxBatch).toBeGreaterThan(1);
    },
  );

  it('speculation saves forward passes on repetitive output', async () => {
    const plain = harness();
    plain.engine.submit(req('a', [9, 9, 9], { speculate: false, maxTokens: 60 }));
    await plain.drain();
    const spec = harness();
    spec.engine.submit(req('a', [9, 9, 9], { maxTokens: 60 }));
    await spec.drain();
    expect(spec.outputs.get('a')).toEqual(plain.outputs.get('a'));
    expect(spec.runner.calls).toBeLessThan(plain.runner.calls);
  });

  it('reuses the longest cached prefix and prefills only the new tokens', async () => {
    const h = harness();
    const first = [5, 6, 7, 8, 9, 10, 11, 12, 13, 14];
    h.engine.submit(req('a', first, { maxTokens: 3 }));
    await h.drain();
    h.engine.submit(req('b', [...first, 15, 16], { maxTokens: 10 }));
    await h.drain();
    expect(h.admitted.get('b')).toBeGreaterThanOrEqual(10);
    expect(h.outputs.get('b')).toEqual(greedyReference([...first, 15, 16], 10));
    // a keystroke that deletes: the cached prefix is shorter than both
    h.engine.submit(req('c', [5, 6, 7, 8, 1], { maxTokens: 5 }));
    await h.drain();
    expect(h.admitted.get('c')).toBe(4);
    expect(h.outputs.get('c')).toEqual(greedyReference([5, 6, 7, 8, 1], 5));
  });

  it('a prediction draft gives the same greedy text', async () => {
    const expected = greedyReference([1, 2, 3], 20);
    const h = harness();
    h.engine.submit(
      req('p', [1, 2, 3], {
        maxTokens: 20,
        prediction: [...expected.slice(0, 8), 0, 0, ...expected.slice(8)],
      }),
    );
    await h.drain();
    expect(h.outputs.get('p')).toEqual(expected);
  });

  it('seeded sampling gives the same text alone and in a batch', async () => {
    const sampled = (id: string) =>
      req(id, [3, 1, 4], {
        sampling: { temperature: 1, topP: 0.9, topK: 0 },
        seed: 99,
        maxTokens: 25,
      });
    const alone = harness();
    alone.engine.submit(sampled('x'));
    await alone.drain();
    const crowd = harness();
    prompts.forEach((p, i) => crowd.engine.submit(req(`o${i}`, p)));
    crowd.engine.submit(sampled('x'));
    await crowd.drain();
    expect(crowd.outputs.get('x')).toEqual(alone.outputs.get('x'));
    expect(alone.outputs.get('x')).toHaveLength(25);
  });

  it('cancellation frees the slot within one step', async () => {
    const h = harness({ maxBatch: 1 });
    h.engine.submit(req('long', [1, 2], { maxTokens: 200, speculate: false }));
    h.engine.submit(req('next', [3, 4], { maxTokens: 2 }));
    await h.drain(3);
    h.engine.cancel('long');
    await h.drain(1);
    expect(h.done.get('long')).toBe('cancelled');
    await h.drain();
    expect(h.outputs.get('next')).toEqual(greedyReference([3, 4], 2));
    expect(h.engine.idle).toBe(true);
  });

  it('stops at EOS and at the context length', async () => {
    const ref = greedyReference([1, 2, 3], 10);
    const h = harness({ eos: [ref[4]!] });
    h.engine.submit(req('e', [1, 2, 3], { maxTokens: 10 }));
    await h.drain();
    expect(h.outputs.get('e')).toEqual(ref.slice(0, 4));
    expect(h.done.get('e')).toBe('stop');
    const c = harness({ contextLength: 64 });
    c.engine.submit(req('c', [7, 7], { maxTokens: 500 }));
    await c.drain();
    expect(c.outputs.get('c')).toEqual(greedyReference([7, 7], 62));
    expect(c.done.get('c')).toBe('length');
  });
});

describe('engine, export without position_ids (positions from the past length)', () => {
  it.each([true, false])(
    'batched greedy output equals plain greedy decoding, late joiners included (speculate=%s)',
    async (speculate) => {
      const h = harness({}, false);
      prompts.forEach((p, i) => h.engine.submit(req(`r${i}`, p, { speculate })));
      await h.drain(6);
      // Joiners while others run, one of them sharing a cached prefix.
      h.engine.submit(req('late', [4, 5, 6, 7, 8, 9, 10, 11, 1], { speculate }));
      h.engine.submit(req('late2', [8, 8], { speculate, maxTokens: 5 }));
      await h.drain();
      prompts.forEach((p, i) => expect(h.outputs.get(`r${i}`)).toEqual(greedyReference(p, 30)));
      expect(h.outputs.get('late')).toEqual(greedyReference([4, 5, 6, 7, 8, 9, 10, 11, 1], 30));
      expect(h.outputs.get('late2')).toEqual(greedyReference([8, 8], 5));
      expect(h.runner.maxBatch).toBeGreaterThan(1);
    },
  );

  it('the padded layout would shift its positions (what the grouped layout prevents)', async () => {
    const h = harness({ kvLayout: 'padded' }, false);
    prompts.forEach((p, i) => h.engine.submit(req(`r${i}`, p)));
    await expect(h.drain()).rejects.toThrow(/position/);
  });

  it('rows of equal length share one forward pass per step', async () => {
    const h = harness({ prefillChunk: 100 }, false);
    const same = [
      [1, 2, 3, 4],
      [5, 6, 7, 8],
      [9, 10, 11, 12],
    ];
    same.forEach((p, i) => h.engine.submit(req(`s${i}`, p, { speculate: false, maxTokens: 10 })));
    await h.drain();
    same.forEach((p, i) => expect(h.outputs.get(`s${i}`)).toEqual(greedyReference(p, 10)));
    // 3 prefills, then 9 decode steps of the 3 rows together.
    expect(h.runner.calls).toBe(3 + 9);
    expect(h.runner.maxBatch).toBe(3);
  });

  it('stops at the context length and frees a cancelled row within one step', async () => {
    const c = harness({ contextLength: 64 }, false);
    c.engine.submit(req('c', [7, 7], { maxTokens: 500 }));
    c.engine.submit(req('d', [7, 7, 7, 7, 7], { maxTokens: 500 }));
    await c.drain();
    expect(c.outputs.get('c')).toEqual(greedyReference([7, 7], 62));
    expect(c.outputs.get('d')).toEqual(greedyReference([7, 7, 7, 7, 7], 59));
    const h = harness({}, false);
    h.engine.submit(req('long', [1, 2], { maxTokens: 200 }));
    h.engine.submit(req('other', [3, 4, 5], { maxTokens: 20 }));
    await h.drain(4);
    h.engine.cancel('long');
    await h.drain(1);
    expect(h.done.get('long')).toBe('cancelled');
    await h.drain();
    expect(h.outputs.get('other')).toEqual(greedyReference([3, 4, 5], 20));
    expect(h.engine.idle).toBe(true);
  });

  it('the grouped layout is exact for exports with position_ids too', async () => {
    const h = harness({ kvLayout: 'grouped' });
    prompts.forEach((p, i) => h.engine.submit(req(`r${i}`, p)));
    await h.drain();
    prompts.forEach((p, i) => expect(h.outputs.get(`r${i}`)).toEqual(greedyReference(p, 30)));
  });
});
