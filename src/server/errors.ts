import { TRPCError } from '@trpc/server';
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

// The one mapping from domain codes to the transports.
const transport: Record<DomainErrorCode, { trpc: TRPCError['code']; http: number }> = {
  BAD_REQUEST: { trpc: 'BAD_REQUEST', http: 400 },
  UNAUTHORIZED: { trpc: 'UNAUTHORIZED', http: 401 },
  FORBIDDEN: { trpc: 'FORBIDDEN', http: 403 },
  NOT_FOUND: { trpc: 'NOT_FOUND', http: 404 },
  CONFLICT: { trpc: 'CONFLICT', http: 409 },
  PAYLOAD_TOO_LARGE: { trpc: 'PAYLOAD_TOO_LARGE', http: 413 },
  TOO_MANY_REQUESTS: { trpc: 'TOO_MANY_REQUESTS', http: 429 },
  UNAVAILABLE: { trpc: 'SERVICE_UNAVAILABLE', http: 503 },
};

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
      status: transport[cause.code].http,
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
    const status = Object.values(transport).find((t) => t.trpc === error.code)?.http ?? 400;
    return {
      status: error.code === 'PARSE_ERROR' ? 400 : status,
      code: error.code,
      message: error.message,
    };
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

export function trpcCodeFor(error: PublicError): TRPCError['code'] {
  const match = Object.values(transport).find((t) => t.http === error.status);
  return match?.trpc ?? (error.status === 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_REQUEST');
}
