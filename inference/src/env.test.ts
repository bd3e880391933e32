import { describe, expect, it } from 'vitest';
import { readEnv } from './env';

describe('env', () => {
  it('has defaults', () => {
    const env = readEnv({});
    expect(env.WORKER_PORT).toBe(8001);
    expect(env.WORKER_EXECUTION_PROVIDERS).toEqual(['cuda', 'webgpu', 'cpu']);
  });
  it('names the bad variable in one line', () => {
    expect(() => readEnv({ WORKER_PORT: 'abc' })).toThrow(
      /^Invalid environment variable WORKER_PORT: /,
    );
    expect(() => readEnv({ WORKER_EXECUTION_PROVIDERS: 'cpu,tpu' })).toThrow(
      /WORKER_EXECUTION_PROVIDERS/,
    );
    expect(() => readEnv({ WORKER_MAX_BATCH: '0' })).toThrow(/WORKER_MAX_BATCH/);
  });
  it('parses provider lists', () => {
    expect(readEnv({ WORKER_EXECUTION_PROVIDERS: ' CPU ' }).WORKER_EXECUTION_PROVIDERS).toEqual([
      'cpu',
    ]);
  });
});
