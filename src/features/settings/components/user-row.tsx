'use client';

import { useMutation } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { buttonClass, formText, RoleSelect, TextInput } from '~/components/form-fields';
import type { Role } from '~/features/auth/roles';
import { useTRPC } from '~/trpc/client';

export interface UserRowData {
  id: string;
  name: string;
  email: string;
  role: Role;
  banned: boolean | null;
}

const linkButton = 'text-indigo-600 hover:underline disabled:opacity-60';

/** One user with the admin's actions: role, disable/enable, reset password, remove. */
export function UserRow({
  user,
  isMe,
  onChanged,
  onError,
}: {
  user: UserRowData;
  isMe: boolean;
  onChanged: () => void;
  onError: (message: string | null) => void;
}) {
  const trpc = useTRPC();
  const [mode, setMode] = useState<'idle' | 'password' | 'remove'>('idle');
  const [notice, setNotice] = useState<string | null>(null);
  const done = (message: string | null) => () => {
    setMode('idle');
    setNotice(message);
    onError(null);
    onChanged();
  };
  const failed = (error: { message: string }) => onError(error.message);
  const setRole = useMutation(
    trpc.settings.users.setRole.mutationOptions({ onSuccess: done(null), onError: failed }),
  );
  const setDisabled = useMutation(
    trpc.settings.users.setDisabled.mutationOptions({ onSuccess: done(null), onError: failed }),
  );
  const remove = useMutation(
    trpc.settings.users.remove.mutationOptions({ onSuccess: done(null), onError: failed }),
  );
  const resetPassword = useMutation(
    trpc.settings.users.resetPassword.mutationOptions({
      onSuccess: done('Password changed; their other sessions were signed out.'),
      onError: failed,
    }),
  );

  function onResetPassword(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const password = formText(new FormData(event.currentTarget), 'password');
    resetPassword.mutate({ userId: user.id, password });
  }

  const disabled = Boolean(user.banned);
  return (
    <tr className="border-t border-slate-100 align-top" data-testid={`user-${user.email}`}>
      <td className="p-2">{user.name}</td>
      <td className="p-2">{user.email}</td>
      <td className="p-2">
        {isMe ? (
          user.role
        ) : (
          <RoleSelect
            value={user.role}
            onChange={(role) => setRole.mutate({ userId: user.id, role })}
          />
        )}
      </td>
      <td className="p-2">{disabled ? 'disabled' : 'active'}</td>
      <td className="space-y-2 p-2 text-right">
        <div className="flex justify-end gap-3">
          {!isMe && (
            <button
              type="button"
              className={linkButton}
              disabled={setDisabled.isPending}
              onClick={() => setDisabled.mutate({ userId: user.id, disabled: !disabled })}
            >
              {disabled ? 'Enable' : 'Disable'}
            </button>
          )}
          <button
            type="button"
            className={linkButton}
            onClick={() => setMode(mode === 'password' ? 'idle' : 'password')}
          >
            Reset password
          </button>
          {!isMe &&
            (mode === 'remove' ? (
              <button
                type="button"
                className="font-medium text-red-600 hover:underline disabled:opacity-60"
                disabled={remove.isPending}
                onClick={() => remove.mutate({ userId: user.id })}
              >
                Confirm remove
              </button>
            ) : (
              <button
                type="button"
                className="text-red-600 hover:underline"
                onClick={() => setMode('remove')}
              >
                Remove
              </button>
            ))}
        </div>
        {mode === 'password' && (
          <form onSubmit={onResetPassword} className="flex items-center justify-end gap-2">
            <TextInput
              name="password"
              type="password"
              aria-label={`New password for ${user.email}`}
              autoComplete="new-password"
              minLength={12}
              required
            />
            <button type="submit" className={buttonClass} disabled={resetPassword.isPending}>
              Set
            </button>
          </form>
        )}
        {notice && (
          <p role="status" className="text-xs text-slate-600">
            {notice}
          </p>
        )}
      </td>
    </tr>
  );
}
