import { createHash } from 'node:crypto';

/**
 * Canonical JSON: object keys sorted by code unit, no whitespace. JSON.stringify already escapes
 * strings the same way everywhere, so equal values give equal bytes on any machine.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value instanceof Date) return value.toISOString();
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}

export const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * A uniform number in [0, 1) from (purpose, seed, id): 52 bits of SHA-256, so sampling and splits
 * depend on nothing but these coordinates (never on `random()` or row order).
 */
export function unitInterval(purpose: string, seed: string, id: string): number {
  const hex = sha256Hex(`${purpose}\u0000${seed}\u0000${id}`).slice(0, 13);
  return parseInt(hex, 16) / 2 ** 52;
}

/** What counts as "the same prompt" for dedupe and the leakage guard. */
export function normalizeText(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
}

/** A 64-bit key of normalized text: enough to tell a million prompts apart, small in memory. */
export const textKey = (text: string) => sha256Hex(normalizeText(text)).slice(0, 16);
