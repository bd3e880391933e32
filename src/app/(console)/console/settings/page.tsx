import Link from 'next/link';
import { PageHeader } from '~/components/page-header';
import { hasRole } from '~/features/auth/roles';
import { requireUser } from '~/features/auth/server/session';

export const metadata = { title: 'Settings · Flywheel' };

export default async function SettingsPage() {
  const user = await requireUser('viewer', '/console/settings');
  return (
    <>
      <PageHeader title="Settings" />
      <ul className="max-w-xl space-y-3">
        <li>
          <Link
            href="/console/settings/api-keys"
            className="font-medium text-indigo-600 hover:underline"
          >
            API keys
          </Link>
          <p className="text-sm text-slate-600">Keys for the public HTTP API (/api/v1).</p>
        </li>
        {hasRole(user.role, 'admin') && (
          <li>
            <Link
              href="/console/settings/users"
              className="font-medium text-indigo-600 hover:underline"
            >
              Users
            </Link>
            <p className="text-sm text-slate-600">Who can use the console, and with which role.</p>
          </li>
        )}
      </ul>
    </>
  );
}
