import 'server-only';
import { headers } from 'next/headers';
import { redirect } from 'next/navigation';
import { toSessionUser, type SessionUser } from '~/server/trpc';
import { hasRole, type Role } from '../roles';
import { auth } from './app-auth';

export async function currentUser(): Promise<SessionUser | null> {
  const session = await auth().api.getSession({ headers: await headers() });
  return toSessionUser(session?.user);
}

/** For server components: the signed-in user with at least `role`, or a redirect. */
export async function requireUser(role: Role = 'viewer', from = '/console'): Promise<SessionUser> {
  const user = await currentUser();
  if (!user) redirect(`/sign-in?next=${encodeURIComponent(from)}`);
  if (!hasRole(user.role, role)) redirect('/console/forbidden');
  return user;
}
