import Link from 'next/link';
import { PageHeader } from '~/components/page-header';
import { requireUser } from '~/features/auth/server/session';

export default async function ConsoleHome() {
  const user = await requireUser('viewer');
  return (
    <>
      <PageHeader title={`Welcome, ${user.name}`}>
        Serve → observe → evaluate → curate → distil → roll out. Pick a part of the loop.
      </PageHeader>
      <ul className="grid max-w-3xl grid-cols-2 gap-4">
        {[
          ['/console/models', 'Models', 'Registered model versions and their lineage.'],
          ['/console/experiments', 'Experiments', 'A/B rollouts with guardrails.'],
          ['/console/dashboards', 'Dashboards', 'Acceptance, retained characters, latency.'],
          ['/console/datasets', 'Datasets', 'Reproducible exports from real feedback.'],
        ].map(([href, title, text]) => (
          <li key={href}>
            <Link
              href={href!}
              className="block rounded-lg bg-white p-4 ring-1 ring-slate-200 hover:ring-indigo-300"
            >
              <span className="font-medium">{title}</span>
              <span className="mt-1 block text-sm text-slate-600">{text}</span>
            </Link>
          </li>
        ))}
      </ul>
    </>
  );
}
