/**
 * The raw floor: a plain onnxruntime-node loop with no server, scheduler or sampler: a static
 * left-padded batch, greedy argmax, each step's present.* fed back as past_key_values.*.
 */
import * as ort from 'onnxruntime-node';

export interface RawModel {
  session: ort.InferenceSession;
  layers: number;
  heads: number;
  headDim: number;
}

export async function loadRaw(modelPath: string, intraOpThreads = 0): Promise<RawModel> {
  const session = await ort.InferenceSession.create(modelPath, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    ...(intraOpThreads > 0 ? { intraOpNumThreads: intraOpThreads } : {}),
  });
  let layers = 0;
  let heads = 0;
  let headDim = 0;
  for (const m of session.inputMetadata) {
    const match = /^past_key_values\.(\d+)\.key$/.exec(m.name);
    if (!match || !m.isTensor) continue;
    layers = Math.max(layers, Number(match[1]) + 1);
    heads = Number(m.shape[1]);
    headDim = Number(m.shape[3]);
  }
  return { session, layers, heads, headDim };
}

function argmaxRow(data: Float32Array, offset: number, vocab: number): number {
  let best = 0;
  let value = -Infinity;
  for (let v = 0; v < vocab; v++) {
    const x = data[offset + v] as number;
    if (x > value) {
      value = x;
      best = v;
    }
  }
  return best;
}

/** Greedy-decodes `steps` new tokens for every prompt together; returns the new tokens. */
export async function rawGenerate(
  m: RawModel,
  prompts: readonly number[][],
  steps: number,
): Promise<number[][]> {
  const B = prompts.length;
  const S = Math.max(...prompts.map((p) => p.length));
  const ids = new BigInt64Array(B * S);
  const pos = new BigInt64Array(B * S);
  let mask: bigint[];
  const rows: bigint[][] = prompts.map((p, r) => {
    const pad = S - p.length;
    p.forEach((t, j) => {
      ids[r * S + pad + j] = BigInt(t);
      pos[r * S + pad + j] = BigInt(j);
    });
    return [...new Array<bigint>(pad).fill(0n), ...new Array<bigint>(p.length).fill(1n)];
  });
  mask = rows.flat();
  const feeds: Record<string, ort.Tensor> = {};
  for (let i = 0; i < m.layers; i++) {
    for (const kind of ['key', 'value']) {
      feeds[`past_key_values.${i}.${kind}`] = new ort.Tensor('float32', new Float32Array(0), [
        B,
        m.heads,
        0,
        m.headDim,
      ]);
    }
  }
  let input = { ids, pos, len: S };
  let total = S;
  const out: number[][] = prompts.map(() => []);
  const next = prompts.map((p) => p.length);
  for (let step = 0; step < steps; step++) {
    feeds.input_ids = new ort.Tensor('int64', input.ids, [B, input.len]);
    feeds.position_ids = new ort.Tensor('int64', input.pos, [B, input.len]);
    feeds.attention_mask = new ort.Tensor('int64', BigInt64Array.from(mask), [B, total]);
    const res = await m.session.run(feeds);
    const logits = res.logits as ort.Tensor;
    const vocab = logits.dims[2] as number;
    const data = logits.data as Float32Array;
    const nextIds = new BigInt64Array(B);
    const nextPos = new BigInt64Array(B);
    for (let r = 0; r < B; r++) {
      const t = argmaxRow(data, (r * input.len + input.len - 1) * vocab, vocab);
      out[r]!.push(t);
      nextIds[r] = BigInt(t);
      nextPos[r] = BigInt(next[r]!);
      next[r]! += 1;
    }
    for (let i = 0; i < m.layers; i++) {
      for (const kind of ['key', 'value'])
        feeds[`past_key_values.${i}.${kind}`] = res[`present.${i}.${kind}`] as ort.Tensor;
    }
    const newMask: bigint[] = [];
    for (let r = 0; r < B; r++) newMask.push(...mask.slice(r * total, (r + 1) * total), 1n);
    mask = newMask;
    total += 1;
    input = { ids: nextIds, pos: nextPos, len: 1 };
  }
  return out;
}
