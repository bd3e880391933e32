import { PageHeader } from '~/components/page-header';
import { UsersPanel } from '~/features/settings/components/users-panel';
import { requireUser } from '~/features/auth/server/session';

export const metadata = { title: 'Users · Flywheel' };

export default async function UsersPage() {
  const me = await requireUser('admin', '/console/settings/users');
  return (
    <>
      <PageHeader title="Users">
        Viewers read, editors change experiments and datasets, admins manage users.
      </PageHeader>
      <UsersPanel currentUserId={me.id} />
    </>
  );
}
