import 'server-only';
import { betterAuth } from 'better-auth';
import { prismaAdapter } from 'better-auth/adapters/prisma';
import { nextCookies } from 'better-auth/next-js';
import { admin } from 'better-auth/plugins';
import { adminAc, userAc } from 'better-auth/plugins/admin/access';
import type { Db } from '~/server/db';

export interface AuthConfig {
  secret: string;
  baseURL: string;
  /** Other origins the browser may use for this same server (localhost vs 127.0.0.1). */
  trustedOrigins?: string[];
  /** Sign-in attempts per client address and minute (default 10). */
  signInAttemptsPerMinute?: number;
}

/**
 * Better Auth does password hashing (scrypt), sessions and user administration. Self sign-up is
 * off: the first admin is created at start-up and adds the others in Settings → Users.
 * The admin plugin's own permissions only gate user administration; the viewer/editor/admin
 * ladder of the platform is checked by the tRPC procedures.
 */
export function createAuth(db: Db, config: AuthConfig) {
  return betterAuth({
    database: prismaAdapter(db, { provider: 'postgresql' }),
    secret: config.secret,
    baseURL: config.baseURL,
    trustedOrigins: config.trustedOrigins ?? [],
    // Explicit: Better Auth would otherwise skip the CSRF origin check whenever NODE_ENV=test.
    advanced: { disableOriginCheck: false },
    emailAndPassword: { enabled: true, disableSignUp: true, minPasswordLength: 12 },
    session: { expiresIn: 60 * 60 * 24 * 7, updateAge: 60 * 60 * 24 },
    telemetry: { enabled: false },
    // Per client IP. Sign-in attempts are limited to slow password guessing without locking out
    // a team that signs in from one office address.
    rateLimit: {
      window: 60,
      max: 200,
      customRules: {
        '/sign-in/email': { window: 60, max: config.signInAttemptsPerMinute ?? 10 },
      },
    },
    plugins: [
      admin({
        roles: { admin: adminAc, editor: userAc, viewer: userAc },
        defaultRole: 'viewer',
        adminRoles: ['admin'],
        bannedUserMessage: 'This account is disabled; ask an admin to enable it.',
      }),
      nextCookies(),
    ],
  });
}

export type Auth = ReturnType<typeof createAuth>;
