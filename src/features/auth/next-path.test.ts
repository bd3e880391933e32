import { describe, expect, it } from 'vitest';
import { safeNextPath } from './next-path';

describe('safeNextPath', () => {
  it('keeps a path on this site with its query and fragment', () => {
    expect(safeNextPath('/console/models')).toBe('/console/models');
    expect(safeNextPath('/console/experiments/abc?tab=results#arms')).toBe(
      '/console/experiments/abc?tab=results#arms',
    );
    expect(safeNextPath('/write')).toBe('/write');
  });

  it.each([
    null,
    undefined,
    '',
    'console',
    '//evil.example/x',
    '/\\evil.example',
    '/\\/evil.example',
    'https://evil.example/',
    'javascript:alert(1)',
    '\t//evil.example',
    '/\t/evil.example',
    '/\n/evil.example',
    '/sign-in?next=/console',
  ])('falls back for %j', (raw) => {
    expect(safeNextPath(raw)).toBe('/console');
    expect(safeNextPath(raw, '/elsewhere')).toBe('/elsewhere');
  });

  it('normalizes dot segments instead of leaving the site', () => {
    expect(safeNextPath('/../../evil.example')).toBe('/evil.example');
    expect(safeNextPath('/console/../settings')).toBe('/settings');
  });
});
