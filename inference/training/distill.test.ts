/**
 * `distill.py` on a tiny configuration, end to end: the real worker serves the demo teacher from a
 * temporary repository, the student learns from its top-k logprobs over the API, its eval
 * divergence drops, and after the load call the worker serves the new folder.
 * The Python environment is the one `npm run distill` uses (created once from the wheel mirror).
 */
import { execFile, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEMO_MODELS,
  REPO_ROOT,
  startWorker,
  type WorkerProcess,
} from '../src/testing/worker-process';

const run = promisify(execFile);
const VENV = path.join(REPO_ROOT, 'node_modules/.cache/flywheel-py-datasets');
const PYTHON = path.join(VENV, 'bin/python');

const PROMPTS = [
  'Thanks for the update on the',
  'Could you send me the report by',
  'Let me know if the meeting on',
  'I wanted to follow up on our',
  'Please find attached the',
  'We are pleased to announce that',
  'The committee will review the',
  'I am writing to ask about the',
  'As discussed yesterday, the',
  'Our fellow citizens have',
  'The state of the union is',
  'Congress has the power to',
  'Could we move the call to',
  'Here is the latest draft of the',
];

describe('distill.py (tiny configuration)', () => {
  let worker: WorkerProcess | undefined;
  const dir = mkdtempSync(path.join(tmpdir(), 'flywheel-distill-'));
  const repo = path.join(dir, 'models');
  const dataset = path.join(dir, 'dataset');

  beforeAll(async () => {
    if (spawnSync(PYTHON, ['-c', 'import torch, onnx, tokenizers']).status !== 0) {
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
    const teacher = path.join(repo, 'flywheel-teacher/1');
    mkdirSync(teacher, { recursive: true });
    for (const f of ['model.onnx', 'config.json', 'tokenizer.json', 'tokenizer_config.json'])
      if (existsSync(path.join(DEMO_MODELS, 'flywheel-teacher/1', f)))
        cpSync(path.join(DEMO_MODELS, 'flywheel-teacher/1', f), path.join(teacher, f));
    mkdirSync(dataset);
    const lines = (ps: string[]) => ps.map((prompt) => `${JSON.stringify({ prompt })}\n`).join('');
    // Interleaved, so both splits come from one distribution (mail and speeches alike).
    writeFileSync(path.join(dataset, 'train.jsonl'), lines(PROMPTS.filter((_, i) => i % 3 !== 2)));
    writeFileSync(path.join(dataset, 'eval.jsonl'), lines(PROMPTS.filter((_, i) => i % 3 === 2)));
    writeFileSync(
      path.join(dataset, 'manifest.json'),
      JSON.stringify({ dataset: 'distill-test', version: 1, contentDigest: 'test' }),
    );
    worker = await startWorker({ MODEL_REPOSITORY: repo, WORKER_PRECISION: 'fp32' });
  }, 20 * 60_000);
  afterAll(async () => {
    await worker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    'lowers the eval divergence to the teacher, exports with lineage and is served after a load call',
    async () => {
      const out = path.join(repo, 'flywheel-student-distilled/1');
      const { stdout } = await run(
        PYTHON,
        [
          'inference/training/distill.py',
          ...[
            '--dataset',
            dataset,
            '--teacher-url',
            `${worker!.baseUrl}/v1`,
            '--teacher',
            'flywheel-teacher',
          ],
          ...['--student', path.join(DEMO_MODELS, 'flywheel-student/1'), '--out', out],
          ...[
            '--worker-url',
            worker!.baseUrl,
            '--steps',
            '12',
            '--batch',
            '4',
            '--max-new-tokens',
            '8',
          ],
          ...['--lr', '3e-5'],
        ],
        { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024 },
      );
      const m = /eval divergence after: ([\d.]+) \(was ([\d.]+)\)/.exec(stdout);
      console.log(
        stdout
          .split('\n')
          .filter((l) => !l.startsWith('step '))
          .join('\n'),
      );
      expect(m).not.toBeNull();
      expect(Number(m![1])).toBeLessThan(Number(m![2]));
      expect(stdout).toContain('worker load flywheel-student-distilled: HTTP 200');
      const config = (await import(path.join(out, 'config.json'), { with: { type: 'json' } })) as {
        default: { flywheel_lineage: { dataset: { name: string }; loss: { beta: number } } };
      };
      expect(config.default.flywheel_lineage).toMatchObject({
        dataset: { name: 'distill-test' },
        loss: { beta: 1 },
      });
      const answer = await fetch(`${worker!.baseUrl}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'flywheel-student-distilled/1',
          prompt: 'Thanks for the',
          max_tokens: 4,
          temperature: 0,
        }),
      });
      expect(answer.status).toBe(200);
    },
    10 * 60_000,
  );
});
