// The platform's roles live in src/lib (the kernel's procedure kinds use them); auth's surface.
export { hasRole, isRole, ROLES, type Role } from '~/lib/roles';
