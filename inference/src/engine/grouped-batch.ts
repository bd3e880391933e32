/**
 * The exact batch layout for exports without a `position_ids` input (Gemma, Bloom, MPT).
 * Such a model numbers the tokens it is fed from the physical length of the past it is
 * given, the same for every row of a forward pass, so a row may hold no left padding and no
 * masked holes (rejected draft tokens), or its positions shift and its text changes.
 *
 * So rows are kept in groups of equal length, each group one gap-free KV block, and every
 * group gets its own forward pass per step. Rejected draft tokens are cut off the end of a
 * row (they are always its last columns); rows whose lengths diverge split into new groups,
 * and groups that reach the same length merge again, so steady greedy decoding of requests
 * that arrived together stays one batched forward pass.
 */
import { acceptRow, type DecodeBatch, type Runner, type StepResult, type RowResult } from './batch';
import { gatherKv, range, type KvBlock } from './kv-tensors';
import type { Sequence } from './sequence';

interface Group {
  /** Every row's kvLength equals kv.length; row b of kv is rows[b]'s KV, with no padding. */
  rows: Sequence[];
  kv: KvBlock;
}

export class GroupedBatch implements DecodeBatch {
  private groups: Group[] = [];

  constructor(
    private readonly runner: Runner,
    private readonly contextLength: number,
  ) {}

  get rows(): Sequence[] {
    return this.groups.flatMap((g) => g.rows);
  }
  get size(): number {
    return this.groups.reduce((n, g) => n + g.rows.length, 0);
  }
  /** Forward passes one step costs now (tests and metrics). */
  get groupCount(): number {
    return this.groups.length;
  }

  /** Rows `picked` of `src`, each cut to `length` columns, as one block. */
  private take(src: KvBlock, picked: readonly number[], length: number): KvBlock {
    const identity = picked.length === src.batch && picked.every((row, i) => row === i);
    if (identity && length === src.length) return src;
    return gatherKv(
      this.runner.shape,
      picked.map((row) => ({ src, row, cols: range(0, length) })),
      length,
    );
  }

  /** One group per length: a forward pass costs far more than the copy that merges two. */
  private merge(groups: Group[]): void {
    const byLength = new Map<number, Group[]>();
    for (const g of groups) byLength.set(g.kv.length, [...(byLength.get(g.kv.length) ?? []), g]);
    this.groups = [...byLength.values()].map((same) => {
      if (same.length === 1) return same[0] as Group;
      const length = (same[0] as Group).kv.length;
      return {
        rows: same.flatMap((g) => g.rows),
        kv: gatherKv(
          this.runner.shape,
          same.flatMap((g) => g.rows.map((_, row) => ({ src: g.kv, row, cols: range(0, length) }))),
          length,
        ),
      };
    });
  }

  reconcile(
    joining: readonly Sequence[],
    retire: (seq: Sequence, kv: KvBlock, tokens: number) => void,
  ): void {
    // No holes ever exist in this layout, so there is nothing to compact.
    const leaving = this.groups.some((g) => g.rows.some((s) => s.state === 'done'));
    if (!leaving && joining.length === 0) return;
    const next: Group[] = [];
    for (const g of this.groups) {
      const keep: number[] = [];
      g.rows.forEach((seq, b) => {
        if (seq.state !== 'done') {
          keep.push(b);
          return;
        }
        const n = Math.min(seq.kvLength, seq.tokens.length, g.kv.length);
        if (n > 0) retire(seq, this.take(g.kv, [b], n), n);
      });
      if (keep.length > 0) {
        next.push({
          rows: keep.map((b) => g.rows[b] as Sequence),
          kv: this.take(g.kv, keep, g.kv.length),
        });
      }
    }
    for (const seq of joining) {
      if (!seq.kv) throw new Error('joining sequence has no KV');
      next.push({ rows: [seq], kv: this.take(seq.kv, [0], seq.kvLength) });
      seq.kv = null;
    }
    this.merge(next);
  }

  async step(): Promise<StepResult> {
    const results: RowResult[] = [];
    let drafted = 0;
    let accepted = 0;
    const next: Group[] = [];
    for (const group of this.groups) {
      const out = await this.stepGroup(group);
      drafted += out.drafted;
      accepted += out.accepted;
      results.push(...out.rows);
      next.push(...out.groups);
    }
    this.merge(next);
    return { rows: results, drafted, accepted };
  }

  private async stepGroup(group: Group): Promise<StepResult & { groups: Group[] }> {
    const { rows } = group;
    const past = group.kv.length;
    const room = Math.max(1, this.contextLength - past);
    const drafts = rows.map((s) => s.draft().slice(0, room - 1));
    const width = 1 + Math.max(0, ...drafts.map((d) => d.length));
    const batch = rows.length;
    const total = past + width;
    const inputIds = new BigInt64Array(batch * width);
    const positionIds = new BigInt64Array(batch * width);
    // Every column is attended: the past has no holes, and a shorter draft's filler tokens sit
    // after the row's real ones, where causality hides them; their KV is cut off below.
    const attentionMask = new BigInt64Array(batch * total).fill(1n);
    rows.forEach((seq, b) => {
      const draft = drafts[b] as number[];
      for (let j = 0; j < width; j++) {
        inputIds[b * width + j] = BigInt(
          j === 0 ? seq.last : j <= draft.length ? (draft[j - 1] as number) : seq.last,
        );
        positionIds[b * width + j] = BigInt(Math.min(past + j, this.contextLength - 1));
      }
    });
    const out = await this.runner.forward({
      batch,
      seqLen: width,
      inputIds,
      attentionMask,
      positionIds,
      past: group.kv,
      logitsToKeep: width,
    });
    const results: RowResult[] = [];
    const byLength = new Map<number, number[]>();
    let drafted = 0;
    let accepted = 0;
    rows.forEach((seq, b) => {
      const draft = drafts[b] as number[];
      const row = (j: number): Float32Array => {
        const start = (b * out.keptPositions + (out.keptPositions - width + j)) * out.vocab;
        return out.logits.subarray(start, start + out.vocab);
      };
      const emission = acceptRow(seq, draft, row);
      seq.kvLength = past + 1 + emission.accepted;
      byLength.set(seq.kvLength, [...(byLength.get(seq.kvLength) ?? []), b]);
      drafted += emission.drafted;
      accepted += emission.accepted;
      results.push({ seq, tokens: emission.tokens, logprobs: emission.logprobs });
    });
    const groups = [...byLength].map(([length, picked]) => ({
      rows: picked.map((b) => rows[b] as Sequence),
      kv: this.take(out.present, picked, length),
    }));
    return { rows: results, drafted, accepted, groups };
  }
}
