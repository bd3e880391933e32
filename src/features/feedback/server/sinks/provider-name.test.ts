import { describe, expect, it } from 'vitest';
import { inRepoWorkerOrigins, providerNameOf } from './provider-name';

const config = { workerOrigins: inRepoWorkerOrigins({ START_WORKER: true, WORKER_PORT: 8001 }) };

describe('providerNameOf', () => {
  it('names the in-repo worker, hosted APIs and other servers without their URL', () => {
    expect(providerNameOf('http://127.0.0.1:8001', config)).toBe('flywheel-worker');
    expect(providerNameOf('http://localhost:8001/', config)).toBe('flywheel-worker');
    expect(providerNameOf('https://api.openai.com/v1', config)).toBe('openai');
    expect(providerNameOf('https://my-team.openai.azure.com/openai', config)).toBe(
      'azure.ai.openai',
    );
    expect(providerNameOf('https://api.groq.com/openai/v1', config)).toBe('groq');
    expect(providerNameOf('http://vllm.internal:8000/v1', config)).toBe('vllm.internal');
    // Another port on this machine is not the worker npm start launched.
    expect(providerNameOf('http://127.0.0.1:9000', config)).toBe('127.0.0.1');
  });

  it('keeps a name as it is and calls the model-free tier flywheel', () => {
    expect(providerNameOf('test-worker', config)).toBe('test-worker');
    expect(providerNameOf(null, config)).toBe('flywheel');
  });

  it('knows no worker when START_WORKER is off', () => {
    const none = { workerOrigins: inRepoWorkerOrigins({ START_WORKER: false, WORKER_PORT: 8001 }) };
    expect(providerNameOf('http://127.0.0.1:8001', none)).toBe('127.0.0.1');
  });
});
