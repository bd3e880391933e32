import { TRPCError } from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import { TRPC_ERROR_CODES_BY_KEY, type TRPC_ERROR_CODE_KEY } from '@trpc/server/rpc';
import { z } from 'zod';

export type DomainErrorCode =
  | 'BAD_REQUEST'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'PAYLOAD_TOO_LARGE'
  | 'TOO_MANY_REQUESTS'
  | 'UNAVAILABLE';

/** Base class of every error a service throws on purpose; the code picks the transport status. */
export class DomainError extends Error {
  override name = 'DomainError';
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export class NotFoundError extends DomainError {
  constructor(what: string) {
    super('NOT_FOUND', `${what} was not found`);
  }
}
export class ForbiddenError extends DomainError {
  constructor(message = 'Your role does not allow this') {
    super('FORBIDDEN', message);
  }
}
export class UnauthorizedError extends DomainError {
  constructor(message = 'Sign in first') {
    super('UNAUTHORIZED', message);
  }
}

// Domain codes are tRPC's own keys, but for UNAVAILABLE; HTTP statuses come from tRPC's mapping.
const TRPC_CODE_OF: Record<DomainErrorCode, TRPC_ERROR_CODE_KEY> = {
  BAD_REQUEST: 'BAD_REQUEST',
  UNAUTHORIZED: 'UNAUTHORIZED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  TOO_MANY_REQUESTS: 'TOO_MANY_REQUESTS',
  UNAVAILABLE: 'SERVICE_UNAVAILABLE',
};

/** The HTTP status tRPC itself answers a code with (TIMEOUT 408, METHOD_NOT_SUPPORTED 405, …). */
export function httpStatusOf(code: TRPC_ERROR_CODE_KEY): number {
  return getHTTPStatusCodeFromError(new TRPCError({ code }));
}

export const MASKED_MESSAGE = 'Something went wrong on our side; it has been logged.';

export interface PublicError {
  status: number;
  code: string;
  message: string;
  fieldErrors?: Record<string, string[]>;
  /** For a conflict: the record as it is now, when the service said. */
  current?: unknown;
}

function fieldErrorsOf(error: z.ZodError): Record<string, string[]> {
  const fields: Record<string, string[]> = {};
  for (const issue of error.issues) {
    const key = issue.path.length ? issue.path.join('.') : '_';
    (fields[key] ??= []).push(issue.message);
  }
  return fields;
}

/**
 * Turns anything thrown into what a caller may see: domain errors keep their message and map to
 * their status, validation errors become field-level 400s, everything else is a masked 500.
 */
export function toPublicError(error: unknown): PublicError {
  const cause = error instanceof TRPCError && error.cause ? error.cause : error;
  if (cause instanceof DomainError) {
    const fieldErrors = cause.details?.fieldErrors as Record<string, string[]> | undefined;
    const current = cause.code === 'CONFLICT' ? cause.details?.current : undefined;
    return {
      status: httpStatusOf(TRPC_CODE_OF[cause.code]),
      code: cause.code,
      message: cause.message,
      ...(fieldErrors ? { fieldErrors } : {}),
      ...(current !== undefined ? { current } : {}),
    };
  }
  const conflict = uniqueViolationOf(cause);
  if (conflict) return { status: 409, code: 'CONFLICT', message: conflict };
  if (cause instanceof z.ZodError) {
    const fieldErrors = fieldErrorsOf(cause);
    const first = Object.entries(fieldErrors)[0];
    return {
      status: 400,
      code: 'BAD_REQUEST',
      message: first ? `Invalid input: ${first[0]}: ${first[1][0]}` : 'Invalid input',
      fieldErrors,
    };
  }
  if (error instanceof TRPCError && error.code !== 'INTERNAL_SERVER_ERROR') {
    return { status: getHTTPStatusCodeFromError(error), code: error.code, message: error.message };
  }
  return { status: 500, code: 'INTERNAL_SERVER_ERROR', message: MASKED_MESSAGE };
}

/**
 * A unique key lost to a concurrent request (two creates of one email at once) is the caller's
 * conflict, not our fault: Prisma reports it as P2002, raw SQL through pg as SQLSTATE 23505.
 */
function uniqueViolationOf(error: unknown): string | null {
  if (typeof error !== 'object' || error === null) return null;
  const { code, meta } = error as { code?: unknown; meta?: { target?: unknown } };
  if (code !== 'P2002' && code !== '23505') return null;
  const target = Array.isArray(meta?.target) ? meta.target.join(', ') : null;
  return `This already exists${target ? ` (${target} must be unique)` : ''}; reload and try again`;
}

/** The tRPC code of a public error: its own code, which is a tRPC key or a domain code. */
export function trpcCodeFor(error: PublicError): TRPC_ERROR_CODE_KEY {
  if (error.code in TRPC_CODE_OF) return TRPC_CODE_OF[error.code as DomainErrorCode];
  if (error.code in TRPC_ERROR_CODES_BY_KEY) return error.code as TRPC_ERROR_CODE_KEY;
  return error.status >= 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_REQUEST';
}
