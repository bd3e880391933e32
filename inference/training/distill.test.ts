/**
 * `distill.py` on a tiny configuration, end to end: the real worker serves the demo teacher from a
 * temporary repository and the student learns from it over the OpenAI-compatible API only.
 * 1. The student's eval divergence drops; the export carries its lineage (teacher digest from the
 *    worker); after the load call the worker serves the new folder.
 * 2. On-policy batches (the student samples, the teacher scores them with echo) mixed with SFT on
 *    the text users kept: a teacher that goes down mid-run stops it with the reason (exit 3),
 *    --resume finishes it, and a run that replays the same recorded teacher answers, with the
 *    teacher still down, ends with the same ONNX digest.
 */
import { execFile } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
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
import { ensureDistillPython, PYTHON } from './distill-python';

const run = promisify(execFile);

const ROWS: [string, string][] = [
  ['Thanks for the update on the', ' project.'],
  ['Could you send me the report by', ' Friday?'],
  ['Let me know if the meeting on', ' Monday still works.'],
  ['I wanted to follow up on our', ' conversation.'],
  ['Please find attached the', ' agenda.'],
  ['We are pleased to announce that', ' the release is out.'],
  ['The committee will review the', ' budget.'],
  ['I am writing to ask about the', ' schedule.'],
  ['As discussed yesterday, the', ' plan is set.'],
  ['Our fellow citizens have', ' spoken.'],
  ['The state of the union is', ' strong.'],
  ['Congress has the power to', ' tax.'],
  ['Could we move the call to', ' noon?'],
  ['Here is the latest draft of the', ' letter.'],
];

interface Flywheel {
  digest: string;
  lineage: {
    teacher: { digest: string | null };
    student_init: { model: string };
    dataset: { name: string };
    loss: { beta: number; sft_weight: number };
    on_policy: number;
    batches: { on_policy: number; teacher_sampled: number };
    eval_divergence: { on_policy_before: number | null };
  };
}
const flywheel = (out: string) =>
  JSON.parse(readFileSync(path.join(out, 'flywheel.json'), 'utf8')) as Flywheel;

/** Forwards to the worker; after `budget` completions it answers 503 (the teacher is down). */
function flakyTeacher(target: string, budget: number): Promise<Server> {
  let served = 0;
  const server = createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      if (req.url?.includes('/completions') && ++served > budget) {
        res.writeHead(503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'teacher down (test)' } }));
        return;
      }
      const upstream = await fetch(`${target}${req.url}`, {
        method: req.method,
        headers: { 'content-type': 'application/json' },
        body: req.method === 'POST' ? Buffer.concat(chunks) : undefined,
      });
      res.writeHead(upstream.status, { 'content-type': 'application/json' });
      res.end(Buffer.from(await upstream.arrayBuffer()));
    })();
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('distill.py (tiny configuration)', () => {
  let worker: WorkerProcess | undefined;
  const servers: Server[] = [];
  const dir = mkdtempSync(path.join(tmpdir(), 'flywheel-distill-'));
  const repo = path.join(dir, 'models');
  const dataset = path.join(dir, 'dataset');
  const student = path.join(DEMO_MODELS, 'flywheel-student/1');

  beforeAll(async () => {
    await ensureDistillPython();
    const teacher = path.join(repo, 'flywheel-teacher/1');
    mkdirSync(teacher, { recursive: true });
    for (const f of [
      'model.onnx',
      'config.json',
      'tokenizer.json',
      'tokenizer_config.json',
      'flywheel.json',
    ])
      if (existsSync(path.join(DEMO_MODELS, 'flywheel-teacher/1', f)))
        cpSync(path.join(DEMO_MODELS, 'flywheel-teacher/1', f), path.join(teacher, f));
    mkdirSync(dataset);
    const lines = (rows: [string, string][]) =>
      rows.map(([prompt, completion]) => `${JSON.stringify({ prompt, completion })}\n`).join('');
    // Interleaved, so both splits come from one distribution (mail and speeches alike).
    writeFileSync(path.join(dataset, 'train.jsonl'), lines(ROWS.filter((_, i) => i % 3 !== 2)));
    writeFileSync(path.join(dataset, 'eval.jsonl'), lines(ROWS.filter((_, i) => i % 3 === 2)));
    writeFileSync(
      path.join(dataset, 'manifest.json'),
      JSON.stringify({
        dataset: 'distill-test',
        version: 1,
        contentDigest: 'test',
        format: 'prompt-completion',
      }),
    );
    worker = await startWorker({ MODEL_REPOSITORY: repo, WORKER_PRECISION: 'fp32' });
  }, 20 * 60_000);
  afterAll(async () => {
    for (const s of servers) s.close();
    await worker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const distill = (args: string[]) =>
    run(
      PYTHON,
      [
        'inference/training/distill.py',
        ...['--dataset', dataset, '--teacher', 'flywheel-teacher', '--student', student],
        ...args,
      ],
      { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024 },
    );

  it(
    'lowers the eval divergence to the teacher, exports with lineage and is served after a load call',
    async () => {
      const out = path.join(repo, 'flywheel-student-distilled/1');
      const { stdout } = await distill([
        ...[
          '--teacher-url',
          `${worker!.baseUrl}/v1`,
          '--out',
          out,
          '--worker-url',
          worker!.baseUrl,
        ],
        ...['--steps', '12', '--batch', '4', '--max-new-tokens', '8', '--lr', '3e-5'],
      ]);
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
      const health = (await (await fetch(`${worker!.baseUrl}/health`)).json()) as {
        models: { id: string; digest: string | null }[];
      };
      const written = flywheel(out);
      expect(written.lineage).toMatchObject({
        dataset: { name: 'distill-test' },
        loss: { beta: 1, sft_weight: 0 },
        on_policy: 0,
        student_init: { model: 'flywheel-student/1' },
        teacher: { digest: health.models.find((x) => x.id === 'flywheel-teacher/1')?.digest },
      });
      expect(health.models.find((x) => x.id === 'flywheel-student-distilled/1')?.digest).toBe(
        written.digest,
      );
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

  it(
    'on-policy with SFT: stops when the teacher goes down, resumes, and replaying its answers gives the same digest',
    async () => {
      const flaky = await flakyTeacher(worker!.baseUrl, 6);
      servers.push(flaky);
      const flakyUrl = `http://127.0.0.1:${(flaky.address() as AddressInfo).port}/v1`;
      const answers = path.join(dir, 'answers.jsonl');
      const common = [
        ...['--steps', '4', '--batch', '2', '--max-new-tokens', '6', '--eval-prompts', '2'],
        ...['--on-policy', '0.5', '--sft-weight', '0.1', '--seed', '3', '--lr', '1e-4'],
        ...['--teacher-retries', '1', '--teacher-timeout', '30'],
      ];
      const resumed = path.join(dir, 'out/resumed/1');
      const down = await distill([
        ...common,
        ...['--teacher-url', flakyUrl, '--out', resumed, '--teacher-answers', answers],
      ]).then(
        () => null,
        (e: { code: number; stderr: string }) => e,
      );
      expect(down?.code).toBe(3);
      expect(down?.stderr).toMatch(/stopped after step [1-3]: the teacher at .* did not answer/);
      expect(down?.stderr).toContain('rerun with --resume');
      expect(existsSync(path.join(resumed, 'distill-checkpoint.pt'))).toBe(true);
      expect(existsSync(path.join(resumed, 'model.onnx'))).toBe(false);

      const { stdout } = await distill([
        ...common,
        ...['--teacher-url', `${worker!.baseUrl}/v1`, '--out', resumed],
        ...['--teacher-answers', answers, '--resume'],
      ]);
      expect(stdout).toMatch(/resumed at step [1-3]/);
      const first = flywheel(resumed);
      expect(first.lineage.batches.on_policy).toBeGreaterThan(0);
      expect(first.lineage.batches.on_policy + first.lineage.batches.teacher_sampled).toBe(4);
      expect(first.lineage.eval_divergence.on_policy_before).toBeGreaterThan(0);
      expect(existsSync(path.join(resumed, 'distill-checkpoint.pt'))).toBe(false);

      // The same inputs from scratch, the teacher down for good: every answer is replayed.
      const replayed = path.join(dir, 'out/replayed/1');
      await distill([
        ...common,
        ...['--teacher-url', flakyUrl, '--out', replayed, '--teacher-answers', answers],
      ]);
      expect(flywheel(replayed).digest).toBe(first.digest);
      console.log(`on-policy + SFT, resumed and replayed: model.onnx ${first.digest}`);
    },
    10 * 60_000,
  );
});
