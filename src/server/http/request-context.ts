import 'server-only';
import { auth } from '~/features/auth/server/app-auth';
import { db } from '../db';
import { toSessionUser, type TRPCContext } from '../trpc';

/** Context of a browser request: the database and the signed-in user, if any. */
export async function createRequestContext(headers: Headers): Promise<TRPCContext> {
  const session = await auth().api.getSession({ headers });
  return { db: db(), user: toSessionUser(session?.user) };
}
