import 'server-only';
import { headers } from 'next/headers';
import { redirect } from 'next/navigation';
import { toSessionUser, type SessionUser } from '~/server/session-user';
import { REQUEST_PATH_HEADER, safeNextPath } from '../next-path';
import { hasRole, type Role } from '../roles';
import { auth } from './app-auth';

export async function currentUser(): Promise<SessionUser | null> {
  const session = await auth().api.getSession({ headers: await headers() });
  return toSessionUser(session?.user);
}

/**
 * For server components: the signed-in user with at least `role`, or a redirect. Signing in
 * returns to the page asked for (see src/proxy.ts), else to `from`.
 */
export async function requireUser(role: Role = 'viewer', from = '/console'): Promise<SessionUser> {
  const user = await currentUser();
  if (!user) {
    const asked = (await headers()).get(REQUEST_PATH_HEADER);
    redirect(`/sign-in?next=${encodeURIComponent(safeNextPath(asked, from))}`);
  }
  if (!hasRole(user.role, role)) redirect('/console/forbidden');
  return user;
}
