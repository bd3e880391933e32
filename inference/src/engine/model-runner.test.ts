/** The model runner against PyTorch reference outputs for the tiny test model. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../testing/worker-process';
import { ModelRunner } from './model-runner';

interface Step {
  input_ids: number[][];
  attention_mask: number[][];
  position_ids: number[][];
}
interface Reference {
  vocab_size: number;
  step1: Step & { logits_last: number[][] };
  step2: Step & { logits: number[][][] };
}

const dir = path.join(REPO_ROOT, 'inference/testdata');
const ref = JSON.parse(
  readFileSync(path.join(dir, 'tiny-random.reference.json'), 'utf8'),
) as Reference;
const int64 = (rows: number[][]) => BigInt64Array.from(rows.flat(), (x) => BigInt(x));

describe('model runner', () => {
  it('matches PyTorch on a left-padded batch, then on top of its own presents', async () => {
    const { runner, provider } = await ModelRunner.load(
      path.join(dir, 'models/tiny-random/1/model.onnx'),
      ['cpu'],
      1,
    );
    expect(provider).toBe('cpu');
    expect(runner.shape).toMatchObject({ numLayers: 2, kvHeads: 4, headDim: 16, dtype: 'float32' });
    const V = ref.vocab_size;
    const s1 = ref.step1;
    const seq1 = s1.input_ids[0]!.length;
    const out1 = await runner.forward({
      batch: 2,
      seqLen: seq1,
      inputIds: int64(s1.input_ids),
      attentionMask: int64(s1.attention_mask),
      positionIds: int64(s1.position_ids),
      past: { arrays: Array.from({ length: 4 }, () => new Float32Array(0)), batch: 2, length: 0 },
      logitsToKeep: 1,
    });
    for (let b = 0; b < 2; b++) {
      const last = out1.logits.subarray(
        (b * out1.keptPositions + out1.keptPositions - 1) * V,
        (b * out1.keptPositions + out1.keptPositions) * V,
      );
      const maxErr = Math.max(...Array.from(last, (x, i) => Math.abs(x - s1.logits_last[b]![i]!)));
      expect(maxErr).toBeLessThan(1e-4);
    }
    const s2 = ref.step2;
    const out2 = await runner.forward({
      batch: 2,
      seqLen: 2,
      inputIds: int64(s2.input_ids),
      attentionMask: int64(s2.attention_mask),
      positionIds: int64(s2.position_ids),
      past: out1.present,
      logitsToKeep: 2,
    });
    expect(out2.present.length).toBe(seq1 + 2);
    let maxErr = 0;
    for (let b = 0; b < 2; b++)
      for (let j = 0; j < 2; j++)
        for (let v = 0; v < V; v++)
          maxErr = Math.max(
            maxErr,
            Math.abs(out2.logits[(b * 2 + j) * V + v]! - s2.logits[b]![j]![v]!),
          );
    expect(maxErr).toBeLessThan(1e-4);
    await runner.release();
  });

  it('falls back to the next execution provider, and reports why', async () => {
    const { provider, failures } = await ModelRunner.load(
      path.join(dir, 'models/tiny-random/1/model.onnx'),
      ['cuda', 'cpu'],
      1,
    );
    expect(provider).toBe('cpu');
    expect(failures.map((f) => f.provider)).toEqual(['cuda']);
  });
});
