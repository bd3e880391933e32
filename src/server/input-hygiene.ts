/**
 * Text PostgreSQL cannot store: NUL (refused by `text` and `jsonb` with 22021/22P05) and lone
 * UTF-16 surrogates (not Unicode: the driver would silently turn them into U+FFFD). Every input
 * that reaches the database passes here first, so such text is a 400 naming the field rather
 * than a 500, a silently dropped row, or changed data.
 */
import { DomainError } from './errors';

const UNSTORABLE = /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function problemOf(text: string): string | null {
  const match = UNSTORABLE.exec(text);
  if (!match) return null;
  return match[0] === '\0'
    ? 'contains a NUL character (\\u0000), which cannot be stored'
    : 'contains an unpaired UTF-16 surrogate, which is not valid Unicode';
}

export interface UnstorableText {
  /** Dotted path of the field (`events.3.payload.note`), or of the key itself. */
  path: string;
  problem: string;
}

/** The first string (value or object key) that cannot be stored, or null. Walks iteratively. */
export function findUnstorableText(input: unknown): UnstorableText | null {
  const stack: { value: unknown; path: string[] }[] = [{ value: input, path: [] }];
  while (stack.length > 0) {
    const { value, path } = stack.pop()!;
    if (typeof value === 'string') {
      const problem = problemOf(value);
      if (problem) return { path: path.join('.') || '(input)', problem };
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--)
        stack.push({ value: value[i], path: [...path, String(i)] });
    } else if (value !== null && typeof value === 'object') {
      for (const [key, child] of Object.entries(value)) {
        const keyProblem = problemOf(key);
        if (keyProblem)
          return { path: [...path, JSON.stringify(key)].join('.'), problem: `key ${keyProblem}` };
        stack.push({ value: child, path: [...path, key] });
      }
    }
  }
  return null;
}

/** Throws a 400 naming the field when any string in `input` cannot be stored. */
export function assertStorableText(input: unknown): void {
  const found = findUnstorableText(input);
  if (found) {
    throw new DomainError('BAD_REQUEST', `Invalid input: ${found.path}: ${found.problem}`, {
      fieldErrors: { [found.path]: [found.problem] },
    });
  }
}
