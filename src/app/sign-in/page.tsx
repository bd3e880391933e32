import { Suspense } from 'react';
import { SignInForm } from '~/features/auth/components/sign-in-form';

export const metadata = { title: 'Sign in · Flywheel' };

export default function SignInPage() {
  return (
    <main className="flex min-h-screen items-center justify-center px-4">
      <div className="w-full max-w-sm rounded-xl bg-white p-8 shadow-sm ring-1 ring-slate-200">
        <h1 className="text-xl font-semibold">Sign in to Flywheel</h1>
        <p className="mt-1 mb-6 text-sm text-slate-600">The console for your AI features.</p>
        <Suspense>
          <SignInForm />
        </Suspense>
      </div>
    </main>
  );
}
