import { NextResponse, type NextRequest } from 'next/server';
import { REQUEST_PATH_HEADER } from '~/features/auth/next-path';

/**
 * Tells the console's server components which page was asked for (layouts are not told), so a
 * visitor sent to sign in comes back to that page. Overwrites any such header a client sent.
 */
export function proxy(request: NextRequest) {
  const url = request.nextUrl.clone();
  url.searchParams.delete('_rsc'); // Next.js's own cache-busting parameter
  const headers = new Headers(request.headers);
  headers.set(REQUEST_PATH_HEADER, url.pathname + url.search);
  return NextResponse.next({ request: { headers } });
}

export const config = { matcher: '/console/:path*' };
