import 'server-only';
import { auth } from '~/features/auth/server/app-auth';
import { db } from '~/server/db';
import { clientAddress } from '~/server/rate-limit';
import { toSessionUser, type SessionUser, type TRPCContext } from '~/server/trpc';

/** Context of a browser request: the database and the signed-in user, if any. */
export function createRequestContext(headers: Headers): TRPCContext {
  let user: Promise<SessionUser | null> | undefined;
  return {
    db: db(),
    clientAddress: clientAddress(headers),
    getUser: () =>
      (user ??= auth()
        .api.getSession({ headers })
        .then((s) => toSessionUser(s?.user))),
  };
}
