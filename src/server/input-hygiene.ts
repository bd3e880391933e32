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

interface Visit {
  value: unknown;
  key: string | null;
  parent: Visit | null;
}

const pathOf = (visit: Visit | null, last?: string): string => {
  const parts = last === undefined ? [] : [last];
  for (let v = visit; v && v.key !== null; v = v.parent) parts.unshift(v.key);
  return parts.join('.') || '(input)';
};

/**
 * The first string (value or object key) that cannot be stored, or null. Iterative and linear
 * in the input's size (parents are linked, the path is built only for the answer), so a deeply
 * nested body cannot make it slow or overflow the stack.
 */
export function findUnstorableText(input: unknown): UnstorableText | null {
  const stack: Visit[] = [{ value: input, key: null, parent: null }];
  while (stack.length > 0) {
    const visit = stack.pop()!;
    const { value } = visit;
    if (typeof value === 'string') {
      const problem = problemOf(value);
      if (problem) return { path: pathOf(visit), problem };
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--)
        stack.push({ value: value[i], key: String(i), parent: visit });
    } else if (value !== null && typeof value === 'object') {
      for (const [key, child] of Object.entries(value)) {
        const keyProblem = problemOf(key);
        if (keyProblem)
          return { path: pathOf(visit, JSON.stringify(key)), problem: `key ${keyProblem}` };
        stack.push({ value: child, key, parent: visit });
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
