/**
 * The decoding batch of one model: every running sequence is a row of one KV block
 * (left-padded; rejected draft tokens and padding stay as masked holes until compaction).
 * Each step feeds every row its last token plus its draft, so sequences join and leave at
 * every step (continuous batching) and one forward pass verifies all drafts.
 */
import { emptyKv, gatherKv, range, type KvBlock, type KvShape, type RowSource } from './kv-tensors';
import type { ForwardInput, ForwardOutput } from './model-runner';
import type { EmittedLogprob } from './protocol';
import { SamplingError } from './sampler';
import type { Emission, Sequence } from './sequence';

/** What the engine needs from a model (ModelRunner, or a fake in tests). */
export interface Runner {
  readonly shape: KvShape;
  /**
   * False for exports without a `position_ids` input (Gemma, Bloom, MPT): they take a token's
   * position from the physical length of the past, so the padded layout would shift positions.
   * Absent means true.
   */
  readonly takesPositionIds?: boolean;
  forward(input: ForwardInput): Promise<ForwardOutput>;
}

export interface RowResult {
  seq: Sequence;
  tokens: number[];
  logprobs: EmittedLogprob[] | null;
}

export interface StepResult {
  rows: RowResult[];
  drafted: number;
  accepted: number;
}

/** What the engine loop needs from a decoding batch, whatever its KV layout. */
export interface DecodeBatch {
  readonly rows: readonly Sequence[];
  readonly size: number;
  /** Retires finished rows (their valid KV to `retire`), adds `joining`, compacts if asked. */
  reconcile(
    joining: readonly Sequence[],
    retire: (seq: Sequence, kv: KvBlock, tokens: number) => void,
    forceCompact?: boolean,
  ): void;
  step(): Promise<StepResult>;
}

/**
 * Verifies one row's draft; a sampling error (no finite logit) ends that row alone rather
 * than the whole batch.
 */
export function acceptRow(
  seq: Sequence,
  draft: number[],
  row: (position: number) => Float32Array,
): Emission {
  try {
    return seq.accept(draft, row);
  } catch (err) {
    if (!(err instanceof SamplingError)) throw err;
    seq.finish = 'error';
    seq.message = err.message;
    return { tokens: [], logprobs: null, drafted: draft.length, accepted: 0 };
  }
}

/** Masked columns tolerated before the batch is compacted. */
const MAX_WASTE = 48;

function validCols(mask: Uint8Array, limit: number): Int32Array {
  const cols: number[] = [];
  for (let i = 0; i < mask.length && cols.length < limit; i++) if (mask[i] === 1) cols.push(i);
  return Int32Array.from(cols);
}

export class Batch implements DecodeBatch {
  rows: Sequence[] = [];
  private kv: KvBlock;
  private masks: Uint8Array[] = [];

  constructor(
    private readonly runner: Runner,
    private readonly contextLength: number,
  ) {
    this.kv = emptyKv(runner.shape, 0);
  }

  get size(): number {
    return this.rows.length;
  }
  get columns(): number {
    return this.kv.length;
  }

  /**
   * Drops finished rows (handing each one's valid KV to `retire`, for the prefix cache),
   * adds `joining` sequences (whose own KV is fully valid) and compacts when asked or when
   * holes exceed the limit. Does nothing when nothing changes.
   */
  reconcile(
    joining: readonly Sequence[],
    retire: (seq: Sequence, kv: KvBlock, tokens: number) => void,
    forceCompact = false,
  ): void {
    const leaving = this.rows.filter((s) => s.state === 'done');
    const staying = this.rows.filter((s) => s.state !== 'done');
    const maxValid = Math.max(
      0,
      ...staying.map((s) => s.kvLength),
      ...joining.map((s) => s.kvLength),
    );
    const compact = forceCompact || this.kv.length - maxValid > MAX_WASTE;
    if (leaving.length === 0 && joining.length === 0 && !compact) return;
    for (const seq of leaving) {
      const b = this.rows.indexOf(seq);
      const n = Math.min(seq.kvLength, seq.tokens.length);
      const cols = validCols(this.masks[b] as Uint8Array, n);
      if (cols.length === n && n > 0) {
        retire(seq, gatherKv(this.runner.shape, [{ src: this.kv, row: b, cols }], n), n);
      }
    }
    const sources: RowSource[] = [];
    const masks: Uint8Array[] = [];
    let length = compact ? maxValid : this.kv.length;
    for (const seq of joining) length = Math.max(length, seq.kvLength);
    for (const seq of staying) {
      const b = this.rows.indexOf(seq);
      const mask = this.masks[b] as Uint8Array;
      const cols = compact ? validCols(mask, seq.kvLength) : range(0, mask.length);
      sources.push({ src: this.kv, row: b, cols });
      const m = new Uint8Array(length);
      m.set(compact ? new Uint8Array(cols.length).fill(1) : mask, length - cols.length);
      masks.push(m);
    }
    for (const seq of joining) {
      if (!seq.kv) throw new Error('joining sequence has no KV');
      sources.push({ src: seq.kv, row: 0, cols: range(0, seq.kvLength) });
      masks.push(new Uint8Array(length).fill(1, length - seq.kvLength));
      seq.kv = null;
    }
    this.kv = gatherKv(this.runner.shape, sources, length);
    this.masks = masks;
    this.rows = [...staying, ...joining];
  }

  /** One decode step for every row: feed last token + draft, verify, append. */
  async step(): Promise<StepResult> {
    const rows = this.rows;
    const drafts = rows.map((s) => s.draft());
    let width = 1 + Math.max(0, ...drafts.map((d) => d.length));
    if (this.kv.length + width > this.contextLength) {
      this.reconcile([], () => undefined, true);
      const room = Math.max(1, this.contextLength - this.kv.length);
      for (let b = 0; b < drafts.length; b++)
        drafts[b] = (drafts[b] as number[]).slice(0, room - 1);
      width = 1 + Math.max(0, ...drafts.map((d) => d.length));
    }
    const batch = rows.length;
    const past = this.kv.length;
    const total = past + width;
    const inputIds = new BigInt64Array(batch * width);
    const positionIds = new BigInt64Array(batch * width);
    const attentionMask = new BigInt64Array(batch * total);
    rows.forEach((seq, b) => {
      const draft = drafts[b] as number[];
      const mask = this.masks[b] as Uint8Array;
      for (let i = 0; i < past; i++) if (mask[i] === 1) attentionMask[b * total + i] = 1n;
      for (let j = 0; j < width; j++) {
        const real = j <= draft.length;
        inputIds[b * width + j] = BigInt(
          j === 0 ? seq.last : real ? (draft[j - 1] as number) : seq.last,
        );
        positionIds[b * width + j] = BigInt(
          Math.min(seq.kvLength + (real ? j : 0), this.contextLength - 1),
        );
        if (real) attentionMask[b * total + past + j] = 1n;
      }
    });
    const out = await this.runner.forward({
      batch,
      seqLen: width,
      inputIds,
      attentionMask,
      positionIds,
      past: this.kv,
      logitsToKeep: width,
    });
    this.kv = out.present;
    const results: RowResult[] = [];
    let drafted = 0;
    let accepted = 0;
    rows.forEach((seq, b) => {
      const draft = drafts[b] as number[];
      const row = (j: number): Float32Array => {
        const start = (b * out.keptPositions + (out.keptPositions - width + j)) * out.vocab;
        return out.logits.subarray(start, start + out.vocab);
      };
      const mask = new Uint8Array(total);
      mask.set(this.masks[b] as Uint8Array);
      const emission = acceptRow(seq, draft, row);
      for (let j = 0; j <= emission.accepted; j++) mask[past + j] = 1;
      seq.kvLength += 1 + emission.accepted;
      this.masks[b] = mask;
      drafted += emission.drafted;
      accepted += emission.accepted;
      results.push({ seq, tokens: emission.tokens, logprobs: emission.logprobs });
    });
    return { rows: results, drafted, accepted };
  }
}
