// Platform roles, lowest to highest. Shared by server and browser (no I/O).
export const ROLES = ['viewer', 'editor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** True when `actual` is at least `required`. Unknown roles have no rights. */
export function hasRole(actual: unknown, required: Role): boolean {
  return isRole(actual) && ROLES.indexOf(actual) >= ROLES.indexOf(required);
}
