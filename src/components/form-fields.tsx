import type { InputHTMLAttributes, ReactNode } from 'react';
import { ROLES, type Role } from '~/features/auth/roles';

/** A text field of a submitted form ('' when absent). */
export function formText(form: FormData, name: string): string {
  const value = form.get(name);
  return typeof value === 'string' ? value : '';
}

export const inputClass =
  'mt-1 w-full rounded-md border border-slate-300 px-3 py-1.5 text-sm focus:border-indigo-500 focus:outline-none';
export const buttonClass =
  'rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-500 disabled:opacity-60';

export function Field({ label, children }: { label: string; children: ReactNode }) {
  return (
    <label className="block text-sm">
      <span className="font-medium text-slate-700">{label}</span>
      {children}
    </label>
  );
}

export function TextInput(props: InputHTMLAttributes<HTMLInputElement>) {
  return <input {...props} className={inputClass} />;
}

export function RoleSelect({
  name,
  value,
  max,
  onChange,
}: {
  name?: string;
  value?: Role;
  max?: Role;
  onChange?: (role: Role) => void;
}) {
  const allowed = max ? ROLES.slice(0, ROLES.indexOf(max) + 1) : ROLES;
  return (
    <select
      name={name}
      value={value}
      defaultValue={value ? undefined : 'viewer'}
      onChange={onChange ? (e) => onChange(e.target.value as Role) : undefined}
      className={inputClass}
    >
      {allowed.map((r) => (
        <option key={r} value={r}>
          {r}
        </option>
      ))}
    </select>
  );
}
