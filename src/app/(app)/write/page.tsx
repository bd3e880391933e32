import { redirect } from 'next/navigation';
import { currentUser } from '~/features/auth/server/session';
import { Composer } from '~/features/suggestions/components/composer';
import { getFeature } from '~/features/suggestions/server/feature-registry';
import { env } from '~/server/env';

export const metadata = { title: 'Write · Flywheel demo' };
// Who may write is decided per request (the session, ALLOW_ANONYMOUS_WRITE).
export const dynamic = 'force-dynamic';

export default async function WritePage() {
  if (!env().ALLOW_ANONYMOUS_WRITE && !(await currentUser())) redirect('/sign-in?next=/write');
  return (
    <main className="mx-auto max-w-2xl px-4 py-12">
      <h1 className="text-2xl font-semibold">New note</h1>
      <p className="mt-1 text-sm text-slate-600">Write as usual; suggestions appear as you type.</p>
      <div className="mt-6 space-y-3">
        <input
          aria-label="Subject"
          placeholder="Subject"
          className="w-full rounded-md border border-slate-300 px-3 py-2"
        />
        <Composer captureText={getFeature('inline-completion').trainingData === true} />
      </div>
    </main>
  );
}
