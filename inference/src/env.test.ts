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
  it('turns tracing on only with a valid OTLP endpoint', () => {
    expect(readEnv({}).OTEL_EXPORTER_OTLP_ENDPOINT).toBeUndefined();
    expect(
      readEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: '' }).OTEL_EXPORTER_OTLP_ENDPOINT,
    ).toBeUndefined();
    expect(
      readEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).OTEL_EXPORTER_OTLP_ENDPOINT,
    ).toBe('http://collector:4318');
    expect(() => readEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector' })).toThrow(
      /^Invalid environment variable OTEL_EXPORTER_OTLP_ENDPOINT: /,
    );
  });
  it('parses provider lists', () => {
    expect(readEnv({ WORKER_EXECUTION_PROVIDERS: ' CPU ' }).WORKER_EXECUTION_PROVIDERS).toEqual([
      'cpu',
    ]);
  });
});
