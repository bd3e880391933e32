import { randomBytes } from 'node:crypto';
import type { Db } from '~/server/db';
import type { Auth } from '~/features/auth/server/auth';
import { createUser } from './user-service';

/**
 * On the first start (no users yet) creates the admin account. Returns the credentials when it
 * created one, so the caller prints them once; null afterwards.
 */
export async function bootstrapAdmin(
  db: Db,
  auth: Auth,
  options: { email: string; password?: string },
): Promise<{ email: string; password: string } | null> {
  if ((await db.user.count()) > 0) return null;
  const password = options.password ?? randomBytes(12).toString('base64url');
  try {
    await createUser(db, auth, null, {
      name: 'Admin',
      email: options.email,
      password,
      role: 'admin',
    });
  } catch (error) {
    // Another app instance created it first.
    if ((await db.user.count()) > 0) return null;
    throw error;
  }
  return { email: options.email, password };
}
