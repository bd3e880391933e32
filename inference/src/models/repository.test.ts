import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { scanModels } from './repository';

const DEMO = path.resolve(import.meta.dirname, '../../models');

describe('model repository', () => {
  it('reads the digest from flywheel.json and counts only the served weights', () => {
    const { versions, broken } = scanModels(DEMO);
    expect(broken).toEqual([]);
    const teacher = versions.find((v) => v.id === 'flywheel-teacher/1')!;
    const meta = JSON.parse(readFileSync(path.join(teacher.dir, 'flywheel.json'), 'utf8')) as {
      digest: string;
    };
    expect(teacher.config.digest).toBe(meta.digest);
    expect(teacher.config.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    // model_int8.onnx sits beside model.onnx but is another copy of the weights, not more.
    expect(teacher.weightBytes).toBe(statSync(path.join(teacher.dir, 'model.onnx')).size);
  });
});
