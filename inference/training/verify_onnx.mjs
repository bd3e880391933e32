// Checks one exported model folder with the runtimes the worker uses:
//  - @huggingface/transformers' AutoTokenizer loads <dir>/tokenizer.json locally (no hub),
//    gives the same ids as the Python trainer and round-trips text exactly;
//  - onnxruntime-node runs model.onnx with an empty past (past_sequence_length = 0) on a
//    left-padded batch, then again on top of the returned presents, and the logits match
//    PyTorch's (reference.json written by build_demo_models.py) within 1e-4.
// Usage: node inference/training/verify_onnx.mjs <model dir> <reference.json>
import fs from 'node:fs';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { AutoTokenizer, env } from '@huggingface/transformers';

const [dirArg, refArg] = process.argv.slice(2);
if (!dirArg || !refArg) {
  console.error('usage: node verify_onnx.mjs <model dir> <reference.json>');
  process.exit(2);
}
const dir = path.resolve(dirArg);
const ref = JSON.parse(fs.readFileSync(refArg, 'utf8'));
const TOL = 1e-4;
let failures = 0;
const check = (ok, what) => {
  if (!ok) failures++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
};

// --- tokenizer -------------------------------------------------------------------------
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = path.dirname(path.dirname(dir)) + path.sep;
const modelId = path.basename(path.dirname(dir)) + '/' + path.basename(dir);
const tok = await AutoTokenizer.from_pretrained(modelId);
for (const c of ref.tokenizer_cases ?? []) {
  const ids = tok.encode(c.text, { add_special_tokens: false });
  const same = ids.length === c.ids.length && ids.every((v, i) => v === c.ids[i]);
  check(same, `tokenizer ids match Python for ${JSON.stringify(c.text.slice(0, 40))}`);
  check(tok.decode(ids) === c.text, `tokenizer round-trips ${JSON.stringify(c.text.slice(0, 40))}`);
}

// --- model -----------------------------------------------------------------------------
const session = await ort.InferenceSession.create(path.join(dir, 'model.onnx'), {
  executionProviders: ['cpu'],
});
const { n_layer: L, n_head: H, head_dim: D } = ref;
const expectIn = ['input_ids', 'attention_mask', 'position_ids'];
const expectOut = ['logits'];
for (let i = 0; i < L; i++) {
  expectIn.push(`past_key_values.${i}.key`, `past_key_values.${i}.value`);
  expectOut.push(`present.${i}.key`, `present.${i}.value`);
}
check(
  JSON.stringify(session.inputNames) === JSON.stringify(expectIn),
  `input names ${session.inputNames.length}`,
);
check(
  JSON.stringify(session.outputNames) === JSON.stringify(expectOut),
  `output names ${session.outputNames.length}`,
);

const i64 = (rows) =>
  new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [
    rows.length,
    rows[0].length,
  ]);
const maxErr = (got, want) => {
  let m = 0;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i] - want[i]) / Math.max(1, Math.abs(want[i]));
    if (!(e <= m)) m = e; // NaN-safe
  }
  return m;
};

const s1 = ref.step1;
const B = s1.input_ids.length;
const S = s1.input_ids[0].length;
const feeds1 = {
  input_ids: i64(s1.input_ids),
  attention_mask: i64(s1.attention_mask),
  position_ids: i64(s1.position_ids),
};
for (let i = 0; i < L; i++) {
  feeds1[`past_key_values.${i}.key`] = new ort.Tensor('float32', new Float32Array(0), [B, H, 0, D]);
  feeds1[`past_key_values.${i}.value`] = new ort.Tensor('float32', new Float32Array(0), [
    B,
    H,
    0,
    D,
  ]);
}
const out1 = await session.run(feeds1);
const V = out1.logits.dims[2];
check(
  out1.logits.dims.join() === [B, S, ref.vocab_size].join(),
  `logits dims ${out1.logits.dims} (empty past)`,
);
check(
  out1['present.0.key'].dims.join() === [B, H, S, D].join(),
  `present dims ${out1['present.0.key'].dims}`,
);
const last = [];
const sums = [];
for (let b = 0; b < B; b++) {
  last.push(...out1.logits.data.subarray((b * S + S - 1) * V, (b * S + S) * V));
  for (let s = 0; s < S; s++)
    sums.push(
      out1.logits.data.subarray((b * S + s) * V, (b * S + s + 1) * V).reduce((a, x) => a + x, 0),
    );
}
let e = maxErr(last, s1.logits_last.flat());
check(e <= TOL, `empty past: last-position logits vs PyTorch, max rel err ${e.toExponential(2)}`);
e = maxErr(sums, s1.logits_all_sum.flat());
check(
  e <= 1e-3,
  `empty past: per-position logit sums vs PyTorch, max rel err ${e.toExponential(2)}`,
);
const pk = out1['present.0.key'].data.reduce((a, x) => a + x, 0);
check(
  Math.abs(pk - s1.present0_key_sum) <= 1e-3 * Math.max(1, Math.abs(s1.present0_key_sum)),
  `present.0.key sum ${pk.toFixed(4)} vs ${s1.present0_key_sum.toFixed(4)}`,
);

const s2 = ref.step2;
const feeds2 = {
  input_ids: i64(s2.input_ids),
  attention_mask: i64(s2.attention_mask),
  position_ids: i64(s2.position_ids),
};
for (let i = 0; i < L; i++) {
  feeds2[`past_key_values.${i}.key`] = out1[`present.${i}.key`];
  feeds2[`past_key_values.${i}.value`] = out1[`present.${i}.value`];
}
const out2 = await session.run(feeds2);
e = maxErr(out2.logits.data, s2.logits.flat(2));
check(
  e <= TOL,
  `with past (${S} cached + 2 new, left-padded batch of ${B}): logits vs PyTorch, max rel err ${e.toExponential(2)}`,
);
check(out2['present.0.key'].dims[2] === S + 2, `present grows to ${out2['present.0.key'].dims[2]}`);

console.log(
  failures === 0
    ? `verify: ${path.relative(process.cwd(), dir)} OK`
    : `verify: ${failures} check(s) failed`,
);
process.exit(failures === 0 ? 0 : 1);
