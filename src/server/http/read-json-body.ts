import { DomainError } from '../errors';
import { assertStorableText } from '../input-hygiene';

/**
 * The one body reader of the HTTP routes: JSON, and only text the database can store
 * (a 400 naming the field otherwise), before any service sees it.
 */
export async function readJsonBody(req: Request): Promise<unknown> {
  const body: unknown = await req.json().catch(() => {
    throw new DomainError('BAD_REQUEST', 'The body must be JSON');
  });
  assertStorableText(body);
  return body;
}
