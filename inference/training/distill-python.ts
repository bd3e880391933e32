/**
 * The Python environment distillation runs in (the one `npm run distill` and the dataset check
 * use): torch CPU, datasets, trl and onnx from the local wheel mirror, created once in
 * node_modules/.cache (minutes on a busy machine), reused after.
 */
import { execFile, spawnSync } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../src/testing/worker-process';

const run = promisify(execFile);
export const VENV = path.join(REPO_ROOT, 'node_modules/.cache/flywheel-py-datasets');
export const PYTHON = path.join(VENV, 'bin/python');

export async function ensureDistillPython(): Promise<void> {
  if (spawnSync(PYTHON, ['-c', 'import torch, onnx, tokenizers']).status === 0) return;
  await run('python3', ['-m', 'venv', VENV]);
  await run(
    path.join(VENV, 'bin/pip'),
    [
      'install',
      '-q',
      '--index-url',
      'file:///opt/pypi/simple',
      'torch==2.13.0+cpu',
      'datasets',
      'trl',
      'onnx',
    ],
    { maxBuffer: 64 * 1024 * 1024, timeout: 15 * 60_000 },
  );
}
