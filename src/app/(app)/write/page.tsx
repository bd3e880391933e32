import { Composer } from '~/features/suggestions/components/composer';

export const metadata = { title: 'Write · Flywheel demo' };

export default function WritePage() {
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
        <Composer />
      </div>
    </main>
  );
}
