'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useRef, useState, type FormEvent } from 'react';
import { buttonClass, Field, formText, RoleSelect, TextInput } from '~/components/form-fields';
import type { Role } from '~/features/auth/roles';
import { useTRPC } from '~/trpc/client';

export function ApiKeysPanel({ role }: { role: Role }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const keys = useQuery(trpc.settings.apiKeys.list.queryOptions());
  const [shown, setShown] = useState<string | null>(null);
  const [copied, setCopied] = useState<'copied' | 'failed' | null>(null);
  const form = useRef<HTMLFormElement>(null);
  const refresh = () =>
    queryClient.invalidateQueries({ queryKey: trpc.settings.apiKeys.list.queryKey() });
  const create = useMutation(
    trpc.settings.apiKeys.create.mutationOptions({
      onSuccess: (r) => {
        setShown(r.key);
        setCopied(null);
        // Ready for the next key; the one just made stays shown below until the page is left.
        form.current?.reset();
        void refresh();
      },
    }),
  );
  const revoke = useMutation(
    trpc.settings.apiKeys.revoke.mutationOptions({ onSuccess: () => void refresh() }),
  );

  function onCreate(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    create.mutate({ name: formText(data, 'name'), role: data.get('role') as Role });
  }

  async function copyKey(key: string) {
    // The Clipboard API needs a secure context (HTTPS or localhost); say so when it is refused.
    try {
      await navigator.clipboard.writeText(key);
      setCopied('copied');
    } catch {
      setCopied('failed');
    }
  }

  return (
    <div className="max-w-3xl space-y-6">
      <form
        ref={form}
        onSubmit={onCreate}
        className="flex items-end gap-3 rounded-lg bg-white p-4 ring-1 ring-slate-200"
      >
        <div className="flex-1">
          <Field label="Name">
            <TextInput name="name" required maxLength={80} placeholder="e.g. backend ingest" />
          </Field>
        </div>
        <Field label="Role">
          <RoleSelect name="role" max={role} />
        </Field>
        <button type="submit" className={buttonClass} disabled={create.isPending}>
          Create key
        </button>
      </form>
      {create.error && (
        <p role="alert" className="text-sm text-red-600">
          {create.error.message}
        </p>
      )}
      {shown && (
        <div role="status" className="rounded-lg bg-amber-50 p-4 text-sm ring-1 ring-amber-200">
          <p className="font-medium">Copy this key now; it will not be shown again.</p>
          <div className="mt-2 flex items-start gap-3">
            <code data-testid="new-api-key" className="block flex-1 break-all">
              {shown}
            </code>
            <button type="button" className={buttonClass} onClick={() => void copyKey(shown)}>
              {copied === 'copied' ? 'Copied' : 'Copy'}
            </button>
          </div>
          {copied === 'failed' && (
            <p className="mt-2 text-red-600">
              The browser refused the clipboard here; select the key and copy it by hand.
            </p>
          )}
        </div>
      )}
      <table className="w-full bg-white text-left text-sm ring-1 ring-slate-200">
        <thead className="bg-slate-50 text-slate-600">
          <tr>
            <th className="p-2">Name</th>
            <th className="p-2">Key</th>
            <th className="p-2">Role</th>
            <th className="p-2">Last used</th>
            <th className="p-2" />
          </tr>
        </thead>
        <tbody>
          {keys.data?.map((k) => (
            <tr key={k.id} className="border-t border-slate-100">
              <td className="p-2">{k.name}</td>
              <td className="p-2 font-mono">{k.prefix}…</td>
              <td className="p-2">{k.role}</td>
              <td className="p-2">{k.lastUsedAt ? k.lastUsedAt.toLocaleString() : 'never'}</td>
              <td className="p-2 text-right">
                {k.revokedAt ? (
                  <span className="text-slate-500">revoked</span>
                ) : (
                  <button
                    type="button"
                    className="text-red-600 hover:underline"
                    onClick={() => revoke.mutate({ id: k.id })}
                  >
                    Revoke
                  </button>
                )}
              </td>
            </tr>
          ))}
          {keys.data?.length === 0 && (
            <tr>
              <td colSpan={5} className="p-4 text-center text-slate-500">
                No keys yet.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}
