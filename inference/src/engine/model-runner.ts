/**
 * The only file that touches onnxruntime-node. Loads an Optimum decoder-with-past export on
 * the first execution provider that works (each is tried on its own: onnxruntime throws
 * rather than falling back) and runs one forward pass at a time.
 */
import * as ort from 'onnxruntime-node';
import type { ExecutionProviderName } from '../env';
import { emptyKv, type KvArray, type KvBlock, type KvShape } from './kv-tensors';

export interface ForwardInput {
  batch: number;
  seqLen: number;
  inputIds: BigInt64Array;
  /** [batch, past + seqLen] */
  attentionMask: BigInt64Array;
  positionIds: BigInt64Array;
  past: KvBlock;
  /** Positions at the end of each row whose logits are needed (1 for prefill). */
  logitsToKeep: number;
}

export interface ForwardOutput {
  /** [batch, keptPositions, vocab] float32 */
  logits: Float32Array;
  keptPositions: number;
  vocab: number;
  present: KvBlock;
}

export interface LoadResult {
  runner: ModelRunner;
  provider: ExecutionProviderName;
  /** Providers that failed before this one, with the reason. */
  failures: { provider: ExecutionProviderName; error: string }[];
}

// Provider failures are collected and reported by this module (and on /health), so
// onnxruntime's own error lines for them would only be noise.
ort.env.logLevel = 'fatal';

const PAST = /^past_key_values\.(\d+)\.(key|value)$/;

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

export class ModelRunner {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly shape: KvShape,
    private readonly inputs: Set<string>,
  ) {
    this.takesPositionIds = inputs.has('position_ids');
  }

  /** False for exports that number tokens from the past's length (Gemma, Bloom, MPT). */
  readonly takesPositionIds: boolean;

  static async load(
    modelPath: string,
    providers: readonly ExecutionProviderName[],
    intraOpThreads: number,
  ): Promise<LoadResult> {
    const failures: LoadResult['failures'] = [];
    for (const provider of providers) {
      try {
        const session = await ort.InferenceSession.create(modelPath, {
          executionProviders: [provider],
          graphOptimizationLevel: 'all',
          ...(intraOpThreads > 0 ? { intraOpNumThreads: intraOpThreads } : {}),
          logSeverityLevel: 3,
        });
        return { runner: ModelRunner.fromSession(session), provider, failures };
      } catch (err) {
        failures.push({ provider, error: err instanceof Error ? err.message : String(err) });
      }
    }
    const detail = failures.map((f) => `${f.provider}: ${f.error}`).join('; ');
    throw new Error(`no execution provider could load ${modelPath} (${detail})`);
  }

  private static fromSession(session: ort.InferenceSession): ModelRunner {
    let numLayers = 0;
    let kvHeads = 0;
    let headDim = 0;
    let dtype: KvShape['dtype'] = 'float32';
    for (const meta of session.inputMetadata) {
      const m = PAST.exec(meta.name);
      if (!m || !meta.isTensor) continue;
      numLayers = Math.max(numLayers, Number(m[1]) + 1);
      const [, heads, , dim] = meta.shape;
      if (typeof heads === 'number') kvHeads = heads;
      if (typeof dim === 'number') headDim = dim;
      if (meta.type === 'float16') dtype = 'float16';
    }
    const names = new Set(session.inputNames);
    if (numLayers === 0 || !names.has('input_ids') || !names.has('attention_mask')) {
      throw new Error('not an Optimum decoder-with-past export (past_key_values.* inputs missing)');
    }
    if (kvHeads === 0 || headDim === 0) {
      throw new Error('past_key_values.* must have static head and head_dim axes');
    }
    return new ModelRunner(session, { numLayers, kvHeads, headDim, dtype }, names);
  }

  emptyPast(batch: number): KvBlock {
    return emptyKv(this.shape, batch);
  }

  async forward(input: ForwardInput): Promise<ForwardOutput> {
    const { batch, seqLen } = input;
    const { kvHeads, headDim, numLayers, dtype } = this.shape;
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', input.inputIds, [batch, seqLen]),
      attention_mask: new ort.Tensor('int64', input.attentionMask, [
        batch,
        input.past.length + seqLen,
      ]),
    };
    if (this.takesPositionIds) {
      feeds.position_ids = new ort.Tensor('int64', input.positionIds, [batch, seqLen]);
    }
    if (this.inputs.has('use_cache_branch')) {
      feeds.use_cache_branch = new ort.Tensor(
        'bool',
        new Uint8Array([input.past.length > 0 ? 1 : 0]),
        [1],
      );
    }
    if (this.inputs.has('num_logits_to_keep')) {
      feeds.num_logits_to_keep = new ort.Tensor(
        'int64',
        BigInt64Array.of(BigInt(input.logitsToKeep)),
        [],
      );
    }
    const dims = [batch, kvHeads, input.past.length, headDim];
    for (let i = 0; i < numLayers; i++) {
      const key = input.past.arrays[2 * i] as KvArray;
      const value = input.past.arrays[2 * i + 1] as KvArray;
      feeds[`past_key_values.${i}.key`] = new ort.Tensor(dtype, key, dims);
      feeds[`past_key_values.${i}.value`] = new ort.Tensor(dtype, value, dims);
    }
    const out = await this.session.run(feeds);
    const logitsTensor = out.logits;
    if (!logitsTensor) throw new Error('model produced no logits output');
    const [, kept = seqLen, vocab = 0] = logitsTensor.dims;
    const raw = logitsTensor.data;
    const logits =
      raw instanceof Float32Array
        ? raw
        : Float32Array.from(raw as Uint16Array, (h) => halfToFloat(h));
    const arrays: KvArray[] = [];
    for (let i = 0; i < numLayers; i++) {
      for (const kind of ['key', 'value']) {
        const t = out[`present.${i}.${kind}`];
        if (!t) throw new Error(`model produced no present.${i}.${kind} output`);
        arrays.push(t.data as KvArray);
      }
    }
    return {
      logits,
      keptPositions: kept,
      vocab,
      present: { arrays, batch, length: input.past.length + seqLen },
    };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
