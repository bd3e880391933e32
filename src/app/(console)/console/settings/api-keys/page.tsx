import { PageHeader } from '~/components/page-header';
import { ApiKeysPanel } from '~/features/settings/components/api-keys-panel';
import { requireUser } from '~/features/auth/server/session';

export const metadata = { title: 'API keys · Flywheel' };

export default async function ApiKeysPage() {
  const user = await requireUser('viewer', '/console/settings/api-keys');
  return (
    <>
      <PageHeader title="API keys">
        Send a key as <code>Authorization: Bearer fw_…</code>. A key is shown once; only its hash is
        kept.
      </PageHeader>
      <ApiKeysPanel role={user.role} />
    </>
  );
}
