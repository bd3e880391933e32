import { expect, it } from 'vitest';
import { createApiKey, revokeApiKey } from '~/features/settings/server/api-key-service';
import { describeOnEachDatabase, makeUser } from '~/test/databases';
import { createPublicApi } from './public-api';

describeOnEachDatabase('public HTTP API', ({ db }) => {
  const call = (path: string, key?: string) =>
    createPublicApi(db).fetch(
      new Request(`http://localhost/api/v1${path}`, {
        headers: key ? { authorization: `Bearer ${key}` } : {},
      }),
    );

  it('authenticates with an API key and refuses it once revoked', async () => {
    const user = await makeUser(db(), 'editor');
    const { id, key } = await createApiKey(
      db(),
      { id: user.id, role: 'editor' },
      { name: 'ci', role: 'viewer' },
    );
    const ok = await call('/me', key);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ keyId: id, userId: user.id, role: 'viewer' });

    await revokeApiKey(db(), { id: user.id, role: 'editor' }, id);
    const refused = await call('/me', key);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({
      error: { code: 'UNAUTHORIZED', message: expect.stringContaining('revoked') },
    });
  });

  it('acts with no more than the owner’s current role', async () => {
    const user = await makeUser(db(), 'admin');
    const { key } = await createApiKey(
      db(),
      { id: user.id, role: 'admin' },
      { name: 'ops', role: 'admin' },
    );
    await db().user.update({ where: { id: user.id }, data: { role: 'viewer' } });
    expect(await (await call('/me', key)).json()).toMatchObject({ role: 'viewer' });
  });

  it('refuses missing, malformed, unknown and expired keys with 401', async () => {
    expect((await call('/me')).status).toBe(401);
    expect((await call('/me', 'not-a-key')).status).toBe(401);
    expect((await call('/me', 'fw_unknownunknownunknown')).status).toBe(401);
    const user = await makeUser(db(), 'editor');
    const { key } = await createApiKey(
      db(),
      { id: user.id, role: 'editor' },
      { name: 'old', role: 'viewer', expiresAt: new Date(Date.now() - 1000) },
    );
    expect(await (await call('/me', key)).json()).toMatchObject({
      error: { message: expect.stringContaining('expired') },
    });
  });

  it('answers unknown routes with a JSON 404', async () => {
    const res = await call('/nothing-here');
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
  });
});
