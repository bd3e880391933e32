import { initTRPC, TRPCError } from '@trpc/server';
import { TRPC_ERROR_CODES_BY_KEY } from '@trpc/server/rpc';
import superjson from 'superjson';
import { hasRole, type Role } from '~/lib/roles';
import type { Db } from './db';
import type { SessionUser } from './session-user';
import {
  DomainError,
  ForbiddenError,
  toPublicError,
  trpcCodeFor,
  UnauthorizedError,
} from './errors';
import { assertStorableText } from './input-hygiene';
import { admitEndUser, unitIdOf } from './rate-limit';

// Re-exported for callers that build contexts (tests, the request context).
export { toSessionUser, type SessionUser } from './session-user';

export interface TRPCContext {
  db: Db;
  /** Resolved on first use: anonymous procedures (suggestions, feedback) never pay for a session lookup. */
  getUser: () => Promise<SessionUser | null>;
  /** The client's address (rate limits), when the transport knows it. */
  clientAddress?: string | null;
  /** Overrides ALLOW_ANONYMOUS_WRITE (tests). */
  allowAnonymousWrite?: boolean;
}

/** A context with a known user (server-side callers and tests). */
export function contextFor(db: Db, user: SessionUser | null): TRPCContext {
  return { db, getUser: () => Promise.resolve(user) };
}

const t = initTRPC.context<TRPCContext>().create({
  transformer: superjson,
  // The one error translator of the tRPC transport.
  errorFormatter({ shape, error }) {
    const publicError = toPublicError(error);
    const code = trpcCodeFor(publicError);
    return {
      ...shape,
      message: publicError.message,
      code: TRPC_ERROR_CODES_BY_KEY[code],
      data: {
        code,
        httpStatus: publicError.status,
        path: shape.data.path,
        fieldErrors: publicError.fieldErrors ?? null,
        // A 409 from an edit based on a stale version carries the record as it is now.
        current: publicError.current ?? null,
      },
    };
  },
});

export const createTRPCRouter = t.router;
export const mergeRouters = t.mergeRouters;
export const createCallerFactory = t.createCallerFactory;

// Domain errors become a TRPCError with their mapped code, also for server-side callers.
const domainErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && result.error.cause instanceof DomainError) {
    const publicError = toPublicError(result.error.cause);
    throw new TRPCError({
      code: trpcCodeFor(publicError),
      message: publicError.message,
      cause: result.error.cause,
    });
  }
  return result;
});

// Text PostgreSQL cannot store is refused before any procedure sees it (see input-hygiene.ts).
const storableInput = t.middleware(async ({ getRawInput, next }) => {
  assertStorableText(await getRawInput());
  return next();
});

/** Anyone, signed in or not. */
export const publicProcedure = t.procedure.use(domainErrors).use(storableInput);

/** The end-user endpoints (suggestions, feedback): see admitEndUser. */
export const endUserProcedure = publicProcedure.use(async ({ ctx, getRawInput, next }) => {
  await admitEndUser({
    getUser: ctx.getUser,
    clientAddress: ctx.clientAddress ?? null,
    unitId: unitIdOf(await getRawInput()),
    allowAnonymousWrite: ctx.allowAnonymousWrite,
  });
  return next();
});

/** Any signed-in user. */
export const signedInProcedure = publicProcedure.use(async ({ ctx, next }) => {
  const user = await ctx.getUser();
  if (!user) throw new UnauthorizedError('Your session has expired or you are not signed in');
  return next({ ctx: { ...ctx, user } });
});

/** A signed-in user with at least `role`. */
export const roleProcedure = (role: Role) =>
  signedInProcedure.use(({ ctx, next }) => {
    if (!hasRole(ctx.user.role, role))
      throw new ForbiddenError(`This needs the ${role} role; you are a ${ctx.user.role}`);
    return next();
  });

export const editorProcedure = roleProcedure('editor');
export const adminProcedure = roleProcedure('admin');
