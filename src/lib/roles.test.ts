import { describe, expect, it } from 'vitest';
import { hasRole } from './roles';

describe('hasRole', () => {
  it('orders viewer < editor < admin', () => {
    expect(hasRole('admin', 'editor')).toBe(true);
    expect(hasRole('editor', 'editor')).toBe(true);
    expect(hasRole('viewer', 'editor')).toBe(false);
    expect(hasRole('editor', 'admin')).toBe(false);
  });
  it('gives unknown roles no rights', () => {
    expect(hasRole('user', 'viewer')).toBe(false);
    expect(hasRole(undefined, 'viewer')).toBe(false);
  });
});
