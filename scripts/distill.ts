// npm run distill -- --dataset <export folder> --teacher-url <…/v1> --teacher <model> --student <folder>
//                    --out <repository>/<name>/<version> [--worker-url <worker>] [--steps N] …
//   Runs inference/training/distill.py (see its --help) in the Python environment the dataset
//   check uses (node_modules/.cache/flywheel-py-datasets: torch CPU, datasets, trl, onnx from the
//   local wheel mirror), creating it first when it is missing (minutes, once).
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';

const VENV = path.resolve('node_modules/.cache/flywheel-py-datasets');
const PYTHON = path.join(VENV, 'bin/python');
const PACKAGES = ['torch==2.13.0+cpu', 'datasets', 'trl', 'onnx'];

const ready = spawnSync(PYTHON, ['-c', 'import torch, onnx, tokenizers']).status === 0;
if (!ready) {
  console.error(`Creating ${path.relative(process.cwd(), VENV)} from the local wheel mirror…`);
  execFileSync('python3', ['-m', 'venv', VENV], { stdio: 'inherit' });
  execFileSync(
    path.join(VENV, 'bin/pip'),
    ['install', '-q', '--index-url', 'file:///opt/pypi/simple', ...PACKAGES],
    { stdio: 'inherit' },
  );
}
const result = spawnSync(PYTHON, ['inference/training/distill.py', ...process.argv.slice(2)], {
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
