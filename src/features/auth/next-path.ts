// Where to go after signing in. Shared by the sign-in form (browser) and the server (no I/O).

export const CONSOLE_HOME = '/console';

/** Request header carrying the path a console page was asked for (set by src/proxy.ts). */
export const REQUEST_PATH_HEADER = 'x-flywheel-path';

const PROBE_ORIGIN = 'http://flywheel.invalid';

/**
 * `raw` as a path on this site, else `fallback`: never an open redirect. Only a path that starts
 * with one `/` and resolves to this origin passes (`//evil.example`, `/\evil.example`, `https:…`,
 * `javascript:…` and control characters do not), and never the sign-in page itself (a loop).
 */
export function safeNextPath(raw: string | null | undefined, fallback = CONSOLE_HOME): string {
  if (!raw || !raw.startsWith('/') || raw.startsWith('//')) return fallback;
  // Browsers read a backslash as a slash and drop tabs and newlines inside URLs.
  if (/[\\\u0000-\u001f\u007f]/.test(raw)) return fallback;
  let url: URL;
  try {
    url = new URL(raw, PROBE_ORIGIN);
  } catch {
    return fallback;
  }
  if (url.origin !== PROBE_ORIGIN || url.pathname.startsWith('/sign-in')) return fallback;
  return url.pathname + url.search + url.hash;
}
