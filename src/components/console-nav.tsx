'use client';

import Link from 'next/link';
import { usePathname, useRouter } from 'next/navigation';
import { authClient } from '~/features/auth/auth-client';
import { hasRole, type Role } from '~/features/auth/roles';

const sections: { href: string; label: string; role: Role }[] = [
  { href: '/console/models', label: 'Models', role: 'viewer' },
  { href: '/console/experiments', label: 'Experiments', role: 'viewer' },
  { href: '/console/dashboards', label: 'Dashboards', role: 'viewer' },
  { href: '/console/datasets', label: 'Datasets', role: 'viewer' },
  { href: '/console/evals', label: 'Evals', role: 'viewer' },
  { href: '/console/settings', label: 'Settings', role: 'viewer' },
];

export function ConsoleNav({ user }: { user: { email: string; role: Role } }) {
  const pathname = usePathname();
  const router = useRouter();
  return (
    <nav aria-label="Console" className="flex h-full flex-col gap-1 p-4">
      <Link href="/console" className="mb-6 px-2 text-lg font-semibold tracking-tight">
        Flywheel
      </Link>
      {sections
        .filter((s) => hasRole(user.role, s.role))
        .map((s) => (
          <Link
            key={s.href}
            href={s.href}
            aria-current={pathname.startsWith(s.href) ? 'page' : undefined}
            className="rounded-md px-2 py-1.5 text-sm text-slate-700 hover:bg-slate-100 aria-[current=page]:bg-indigo-50 aria-[current=page]:font-medium aria-[current=page]:text-indigo-700"
          >
            {s.label}
          </Link>
        ))}
      {/* The end users' page, to try what the models do. */}
      <Link
        href="/write"
        className="mt-4 rounded-md px-2 py-1.5 text-sm text-slate-700 hover:bg-slate-100"
      >
        Open the writing page ↗
      </Link>
      <div className="mt-auto border-t border-slate-200 pt-4 text-xs text-slate-500">
        <p className="truncate" data-testid="current-user">
          {user.email}
        </p>
        <p>Role: {user.role}</p>
        <button
          type="button"
          className="mt-2 text-indigo-600 hover:underline"
          onClick={async () => {
            await authClient.signOut();
            router.replace('/sign-in');
            router.refresh();
          }}
        >
          Sign out
        </button>
      </div>
    </nav>
  );
}
