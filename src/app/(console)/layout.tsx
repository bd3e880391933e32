import type { ReactNode } from 'react';
import { ConsoleNav } from '~/components/console-nav';
import { requireUser } from '~/features/auth/server/session';

export const dynamic = 'force-dynamic';

export default async function ConsoleLayout({ children }: { children: ReactNode }) {
  const user = await requireUser('viewer');
  return (
    <div className="flex min-h-screen">
      <aside className="w-56 shrink-0 border-r border-slate-200 bg-white">
        <ConsoleNav user={user} />
      </aside>
      <main className="flex-1 p-8">{children}</main>
    </div>
  );
}
