'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { buttonClass, Field, formText, RoleSelect, TextInput } from '~/components/form-fields';
import type { Role } from '~/features/auth/roles';
import { useTRPC } from '~/trpc/client';
import { UserRow } from './user-row';

export function UsersPanel({ currentUserId }: { currentUserId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const users = useQuery(trpc.settings.users.list.queryOptions());
  const refresh = () =>
    queryClient.invalidateQueries({ queryKey: trpc.settings.users.list.queryKey() });
  const create = useMutation(
    trpc.settings.users.create.mutationOptions({ onSuccess: () => void refresh() }),
  );
  const [rowError, setRowError] = useState<string | null>(null);

  function onCreate(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const formElement = event.currentTarget;
    create.mutate(
      {
        name: formText(form, 'name'),
        email: formText(form, 'email'),
        password: formText(form, 'password'),
        role: form.get('role') as Role,
      },
      // Cleared only once the user exists: a refused form keeps what was typed.
      { onSuccess: () => formElement.reset() },
    );
  }

  const error = create.error?.message ?? rowError;
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
          {error}
        </p>
      )}
      <table className="w-full bg-white text-left text-sm ring-1 ring-slate-200">
        <thead className="bg-slate-50 text-slate-600">
          <tr>
            <th className="p-2">Name</th>
            <th className="p-2">Email</th>
            <th className="p-2">Role</th>
            <th className="p-2">Status</th>
            <th className="p-2" />
          </tr>
        </thead>
        <tbody>
          {users.data?.map((u) => (
            <UserRow
              key={u.id}
              user={u}
              isMe={u.id === currentUserId}
              onChanged={() => void refresh()}
              onError={setRowError}
            />
          ))}
        </tbody>
      </table>
    </div>
  );
}
