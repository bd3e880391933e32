import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
import { limitBody, MAX_TRPC_BODY_BYTES } from '~/server/http/body-limit';
import { appRouter } from '~/composition/root';
import { createRequestContext } from '~/composition/request-context';
import { retryAfterOf } from '~/server/rate-limit';

const handler = (request: Request) => {
  const req = limitBody(request, MAX_TRPC_BODY_BYTES);
  if (req instanceof Response) return req;
  return fetchRequestHandler({
    endpoint: '/api/trpc',
    req,
    router: appRouter,
    createContext: () => createRequestContext(req.headers),
    // A 429 says when to come back.
    responseMeta({ errors }) {
      const retryAfter = errors.map(retryAfterOf).find((s) => s !== null);
      return retryAfter ? { headers: new Headers({ 'retry-after': String(retryAfter) }) } : {};
    },
    onError({ error, path }) {
      if (error.code === 'INTERNAL_SERVER_ERROR')
        console.error(`tRPC ${path ?? '?'} failed:`, error.cause ?? error);
    },
  });
};

export { handler as GET, handler as POST };
