/**
 * Loads a model version folder with @huggingface/transformers (the benchmark baseline and the
 * tests' reference): it expects a transformers-style config.json and the ONNX file under
 * onnx/, so a temporary folder is assembled with links to the real files.
 */
import {
  mkdtempSync,
  mkdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
  existsSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AutoModelForCausalLM, AutoTokenizer, env } from '@huggingface/transformers';

export interface TransformersModel {
  model: Awaited<ReturnType<typeof AutoModelForCausalLM.from_pretrained>>;
  tokenizer: Awaited<ReturnType<typeof AutoTokenizer.from_pretrained>>;
  cleanup: () => void;
}

export async function loadTransformersModel(
  versionDir: string,
  intraOpThreads = 0,
): Promise<TransformersModel> {
  const root = mkdtempSync(path.join(tmpdir(), 'flywheel-tfjs-'));
  const dir = path.join(root, 'model');
  mkdirSync(path.join(dir, 'onnx'), { recursive: true });
  const config = JSON.parse(readFileSync(path.join(versionDir, 'config.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  const arch = (config.architecture ?? {}) as Record<string, unknown>;
  // transformers.js reads GPT-2 style names (n_head, n_layer, n_embd) at the top level.
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...config, ...arch }));
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) {
    if (existsSync(path.join(versionDir, f)))
      symlinkSync(path.join(versionDir, f), path.join(dir, f));
  }
  symlinkSync(path.join(versionDir, 'model.onnx'), path.join(dir, 'onnx', 'model.onnx'));
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = root + path.sep;
  const tokenizer = await AutoTokenizer.from_pretrained('model');
  const model = await AutoModelForCausalLM.from_pretrained('model', {
    dtype: 'fp32',
    device: 'cpu',
    ...(intraOpThreads > 0 ? { session_options: { intraOpNumThreads: intraOpThreads } } : {}),
  });
  return { model, tokenizer, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** transformers.js inputs for one unpadded prompt. */
async function inputsOf(ids: readonly number[]) {
  const { Tensor } = await import('@huggingface/transformers');
  return {
    input_ids: new Tensor(
      'int64',
      BigInt64Array.from(ids, (t) => BigInt(t)),
      [1, ids.length],
    ),
    attention_mask: new Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]),
  };
}

/** Greedy continuation of `ids` by transformers.js' own generate loop (new tokens only). */
export async function transformersGreedy(
  m: TransformersModel,
  ids: readonly number[],
  maxNewTokens: number,
): Promise<number[]> {
  const out = (await m.model.generate({
    ...(await inputsOf(ids)),
    max_new_tokens: maxNewTokens,
    do_sample: false,
  })) as { data: BigInt64Array };
  return Array.from(out.data, Number).slice(ids.length);
}

/** Timed baseline call: greedy generate of exactly `n` new tokens per prompt (one batch). */
export async function transformersGenerate(
  m: TransformersModel,
  prompts: readonly number[][],
  n: number,
): Promise<void> {
  for (const ids of prompts) {
    await m.model.generate({
      ...(await inputsOf(ids)),
      max_new_tokens: n,
      min_new_tokens: n,
      do_sample: false,
    });
  }
}
