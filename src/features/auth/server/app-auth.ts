import 'server-only';
import { db } from '~/server/db';
import { env } from '~/server/env';
import { createAuth, type Auth } from './auth';

const globalForAuth = globalThis as unknown as { flywheelAuth?: Auth };

/** The app's auth instance, built on first use (never at build time). */
export function auth(): Auth {
  if (!globalForAuth.flywheelAuth) {
    const { BETTER_AUTH_SECRET, APP_URL, PORT, SIGN_IN_ATTEMPTS_PER_MINUTE } = env();
    if (!BETTER_AUTH_SECRET)
      throw new Error('BETTER_AUTH_SECRET is not set: start the app with `npm start`');
    globalForAuth.flywheelAuth = createAuth(db(), {
      secret: BETTER_AUTH_SECRET,
      baseURL: APP_URL ?? `http://localhost:${PORT}`,
      // Without a configured public URL the app is local: accept both loopback spellings.
      trustedOrigins: APP_URL ? [] : [`http://127.0.0.1:${PORT}`, `http://[::1]:${PORT}`],
      signInAttemptsPerMinute: SIGN_IN_ATTEMPTS_PER_MINUTE,
    });
  }
  return globalForAuth.flywheelAuth;
}
