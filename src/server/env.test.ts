import { describe, expect, it } from 'vitest';
import { EnvError, loadServerEnv } from './env';

describe('loadServerEnv', () => {
  it('runs on the embedded defaults with no configuration', () => {
    const env = loadServerEnv({});
    expect(env.PORT).toBe(3000);
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.PGLITE_DATA_DIR).toBe('.data/pglite');
    expect(env.START_WORKER).toBe(true);
    expect(env.INFERENCE_BACKENDS).toEqual([]);
  });

  it('parses lists and flags', () => {
    const env = loadServerEnv({
      INFERENCE_BACKENDS: 'http://a:1, http://b:2',
      START_WORKER: '0',
      DATABASE_URL: 'postgresql://u@h/db',
    });
    expect(env.INFERENCE_BACKENDS).toEqual(['http://a:1', 'http://b:2']);
    expect(env.START_WORKER).toBe(false);
    expect(env.DATABASE_URL).toBe('postgresql://u@h/db');
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['DATABASE_URL', 'mysql://x@y/z'],
    ['BETTER_AUTH_SECRET', 'short'],
    ['INFERENCE_BACKENDS', 'not a url'],
    ['START_WORKER', 'maybe'],
    ['ADMIN_EMAIL', 'nobody'],
  ])('names the variable when %s=%s is invalid', (name, value) => {
    expect(() => loadServerEnv({ [name]: value })).toThrow(EnvError);
    expect(() => loadServerEnv({ [name]: value })).toThrow(
      new RegExp(`^Invalid environment variable ${name}( \\(item \\d+\\))?: `),
    );
  });

  it('treats empty values as unset', () => {
    expect(loadServerEnv({ DATABASE_URL: '' }).DATABASE_URL).toBeUndefined();
  });
});
