import 'server-only';
import { db } from '~/server/db';
import { env } from '~/server/env';
import { createAuth, type Auth } from './auth';

const globalForAuth = globalThis as unknown as { flywheelAuth?: Auth };

/** The app's auth instance, built on first use (never at build time). */
export function auth(): Auth {
  if (!globalForAuth.flywheelAuth) {
    const { BETTER_AUTH_SECRET, APP_URL, PORT } = env();
    if (!BETTER_AUTH_SECRET)
      throw new Error('BETTER_AUTH_SECRET is not set: start the app with `npm start`');
    globalForAuth.flywheelAuth = createAuth(db(), {
      secret: BETTER_AUTH_SECRET,
      baseURL: APP_URL ?? `http://localhost:${PORT}`,
    });
  }
  return globalForAuth.flywheelAuth;
}
