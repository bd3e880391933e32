'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { FormEvent } from 'react';
import { buttonClass, Field, formText, RoleSelect, TextInput } from '~/components/form-fields';
import type { Role } from '~/features/auth/roles';
import { useTRPC } from '~/trpc/client';

export function UsersPanel({ currentUserId }: { currentUserId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const users = useQuery(trpc.settings.users.list.queryOptions());
  const refresh = () =>
    queryClient.invalidateQueries({ queryKey: trpc.settings.users.list.queryKey() });
  const create = useMutation(
    trpc.settings.users.create.mutationOptions({ onSuccess: () => void refresh() }),
  );
  const setRole = useMutation(
    trpc.settings.users.setRole.mutationOptions({ onSuccess: () => void refresh() }),
  );

  function onCreate(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    create.mutate({
      name: formText(form, 'name'),
      email: formText(form, 'email'),
      password: formText(form, 'password'),
      role: form.get('role') as Role,
    });
    event.currentTarget.reset();
  }

  const error = create.error ?? setRole.error;
  return (
    <div className="max-w-3xl space-y-6">
      <form
        onSubmit={onCreate}
        className="grid grid-cols-2 gap-3 rounded-lg bg-white p-4 ring-1 ring-slate-200"
      >
        <Field label="Name">
          <TextInput name="name" required />
        </Field>
        <Field label="Email">
          <TextInput name="email" type="email" required />
        </Field>
        <Field label="Initial password">
          <TextInput name="password" type="password" minLength={12} required />
        </Field>
        <Field label="Role">
          <RoleSelect name="role" />
        </Field>
        <div className="col-span-2">
          <button type="submit" className={buttonClass} disabled={create.isPending}>
            Add user
          </button>
        </div>
      </form>
      {error && (
        <p role="alert" className="text-sm text-red-600">
          {error.message}
        </p>
      )}
      <table className="w-full bg-white text-left text-sm ring-1 ring-slate-200">
        <thead className="bg-slate-50 text-slate-600">
          <tr>
            <th className="p-2">Name</th>
            <th className="p-2">Email</th>
            <th className="p-2">Role</th>
          </tr>
        </thead>
        <tbody>
          {users.data?.map((u) => (
            <tr key={u.id} className="border-t border-slate-100">
              <td className="p-2">{u.name}</td>
              <td className="p-2">{u.email}</td>
              <td className="p-2">
                {u.id === currentUserId ? (
                  u.role
                ) : (
                  <RoleSelect
                    value={u.role}
                    onChange={(role) => setRole.mutate({ userId: u.id, role })}
                  />
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
