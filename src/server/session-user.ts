import { isRole, type Role } from '~/lib/roles';

/** The signed-in user as procedures and pages see it. */
export interface SessionUser {
  id: string;
  email: string;
  name: string;
  role: Role;
}

/** Narrows what the auth library returns to what procedures may rely on. */
export function toSessionUser(
  user: { id: string; email: string; name: string; role?: string | null } | undefined | null,
): SessionUser | null {
  if (!user) return null;
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    role: isRole(user.role) ? user.role : 'viewer',
  };
}
