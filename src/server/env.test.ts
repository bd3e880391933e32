import { describe, expect, it } from 'vitest';
import { EnvError, loadServerEnv } from './env';

describe('loadServerEnv', () => {
  it('runs on the embedded defaults with no configuration', () => {
    const env = loadServerEnv({});
    expect(env.PORT).toBe(3000);
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.EMBEDDED_DATABASE_DIR).toBeUndefined(); // DEFAULT_EMBEDDED_DATABASE_DIR
    expect(env.EMBEDDED_DATABASE_PORT).toBeUndefined(); // a free port
    expect(env.START_WORKER).toBe(true);
    expect(env.INFERENCE_BACKENDS).toEqual([]);
    expect(env.DATASET_WATERMARK_SETTLE_MS).toBe(120_000);
  });

  it('takes a shorter dataset watermark settle time, but not under a second', () => {
    expect(loadServerEnv({ DATASET_WATERMARK_SETTLE_MS: '5000' }).DATASET_WATERMARK_SETTLE_MS).toBe(
      5000,
    );
    for (const value of ['500', 'soon', '-1'])
      expect(() => loadServerEnv({ DATASET_WATERMARK_SETTLE_MS: value })).toThrow(
        /^Invalid environment variable DATASET_WATERMARK_SETTLE_MS: /,
      );
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
    ['EMBEDDED_DATABASE_PORT', '0'],
  ])('names the variable when %s=%s is invalid', (name, value) => {
    expect(() => loadServerEnv({ [name]: value })).toThrow(EnvError);
    expect(() => loadServerEnv({ [name]: value })).toThrow(
      new RegExp(`^Invalid environment variable ${name}( \\(item \\d+\\))?: `),
    );
  });

  it('reads PGLITE_DATA_DIR (older releases) only with a folder for the embedded PostgreSQL', () => {
    expect(() => loadServerEnv({ PGLITE_DATA_DIR: '/srv/flywheel/pglite' })).toThrow(
      /^Invalid environment variable PGLITE_DATA_DIR: the embedded database is now PostgreSQL: set EMBEDDED_DATABASE_DIR/,
    );
    const env = loadServerEnv({
      PGLITE_DATA_DIR: '/srv/flywheel/pglite',
      EMBEDDED_DATABASE_DIR: '/srv/flywheel/postgres',
    });
    expect(env.PGLITE_DATA_DIR).toBe('/srv/flywheel/pglite');
    expect(env.EMBEDDED_DATABASE_DIR).toBe('/srv/flywheel/postgres');
    expect(
      loadServerEnv({ PGLITE_DATA_DIR: '/old', DATABASE_URL: 'postgresql://u@h/db' }).DATABASE_URL,
    ).toBe('postgresql://u@h/db');
  });

  it('treats empty values as unset', () => {
    expect(loadServerEnv({ DATABASE_URL: '' }).DATABASE_URL).toBeUndefined();
  });
});
