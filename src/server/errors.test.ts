import { TRPCError } from '@trpc/server';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { TRPC_ERROR_CODES_BY_KEY, type TRPC_ERROR_CODE_KEY } from '@trpc/server/rpc';
import {
  DomainError,
  httpStatusOf,
  MASKED_MESSAGE,
  NotFoundError,
  toPublicError,
  trpcCodeFor,
} from './errors';

describe('toPublicError', () => {
  it('keeps a domain error message and maps its code', () => {
    expect(toPublicError(new NotFoundError('Experiment'))).toEqual({
      status: 404,
      code: 'NOT_FOUND',
      message: 'Experiment was not found',
    });
    expect(toPublicError(new DomainError('CONFLICT', 'taken')).status).toBe(409);
  });

  it('finds a domain error wrapped by tRPC', () => {
    const wrapped = new TRPCError({
      code: 'INTERNAL_SERVER_ERROR',
      cause: new DomainError('FORBIDDEN', 'no'),
    });
    expect(toPublicError(wrapped)).toMatchObject({ status: 403, message: 'no' });
  });

  it('turns validation errors into field-level 400s', () => {
    const parsed = z
      .object({ name: z.string().min(1), n: z.number() })
      .safeParse({ name: '', n: 'x' });
    const error = toPublicError(parsed.error);
    expect(error.status).toBe(400);
    expect(Object.keys(error.fieldErrors ?? {})).toEqual(['name', 'n']);
  });

  it('masks unexpected errors', () => {
    const error = toPublicError(new Error('connection string postgres://secret@db'));
    expect(error).toEqual({ status: 500, code: 'INTERNAL_SERVER_ERROR', message: MASKED_MESSAGE });
    expect(trpcCodeFor(error)).toBe('INTERNAL_SERVER_ERROR');
  });

  it('maps unique-key races to 409 and carries the current record of a stale edit', () => {
    expect(toPublicError({ code: 'P2002', meta: { target: ['email'] } })).toMatchObject({
      status: 409,
      message: expect.stringContaining('email'),
    });
    expect(toPublicError({ code: '23505' })).toMatchObject({ status: 409, code: 'CONFLICT' });
    const stale = new DomainError('CONFLICT', 'changed meanwhile', { current: { version: 3 } });
    expect(toPublicError(stale)).toMatchObject({ status: 409, current: { version: 3 } });
    expect(toPublicError(new DomainError('BAD_REQUEST', 'x', { current: 1 }))).not.toHaveProperty(
      'current',
    );
  });
});

describe('tRPC codes and HTTP statuses', () => {
  it('uses tRPC’s own statuses, also for codes no domain error has', () => {
    expect(toPublicError(new TRPCError({ code: 'TIMEOUT' })).status).toBe(408);
    expect(toPublicError(new TRPCError({ code: 'METHOD_NOT_SUPPORTED' })).status).toBe(405);
    expect(toPublicError(new TRPCError({ code: 'PARSE_ERROR' })).status).toBe(400);
    expect(toPublicError(new DomainError('UNAVAILABLE', 'later'))).toMatchObject({
      status: 503,
      code: 'UNAVAILABLE',
    });
  });

  it('gives every public error back its tRPC code', () => {
    for (const code of Object.keys(TRPC_ERROR_CODES_BY_KEY) as TRPC_ERROR_CODE_KEY[]) {
      if (code === 'INTERNAL_SERVER_ERROR') continue;
      const error = toPublicError(new TRPCError({ code }));
      expect(trpcCodeFor(error)).toBe(code);
      expect(error.status).toBe(httpStatusOf(code));
    }
    expect(trpcCodeFor(toPublicError(new DomainError('UNAVAILABLE', 'x')))).toBe(
      'SERVICE_UNAVAILABLE',
    );
    expect(trpcCodeFor(toPublicError(new DomainError('TOO_MANY_REQUESTS', 'x')))).toBe(
      'TOO_MANY_REQUESTS',
    );
  });
});
