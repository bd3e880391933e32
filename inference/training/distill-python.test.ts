/** The Python unit tests of distillation (losses, teacher client, student), run in CI. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, expect, it } from 'vitest';
import { REPO_ROOT } from '../src/testing/worker-process';
import { ensureDistillPython, PYTHON } from './distill-python';

const run = promisify(execFile);

beforeAll(ensureDistillPython, 20 * 60_000);

it('losses, teacher client and student pass their unit tests', async () => {
  const { stderr } = await run(
    PYTHON,
    [
      '-m',
      'unittest',
      'test_distill_losses.py',
      'test_distill_teacher.py',
      'test_distill_student.py',
    ],
    { cwd: path.join(REPO_ROOT, 'inference/training'), maxBuffer: 16 * 1024 * 1024 },
  );
  // unittest reports on stderr: "Ran N tests … OK"; a failure rejects the promise above.
  expect(stderr).toMatch(/Ran (\d+) tests[\s\S]*\nOK/);
  expect(Number(/Ran (\d+) tests/.exec(stderr)?.[1])).toBeGreaterThanOrEqual(14);
}, 120_000);
