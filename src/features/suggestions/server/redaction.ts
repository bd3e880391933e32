/** Redaction of prompts and outputs before they are stored, per the feature's policy. */
import { createHash } from 'node:crypto';
import type { RedactionPolicy } from './feature-registry';

const EMAIL = /[\p{L}\p{N}._%+-]+@[\p{L}\p{N}.-]+\.\p{L}{2,}/gu;
// Runs of digits with the separators of phone, card and account numbers ("+1 (555) 010-9999").
const NUMBER = /\+?\(?\d[\d\s().-]*\d|\d/g;

export function maskEmailsAndNumbers(text: string): string {
  return text.replace(EMAIL, '[email]').replace(NUMBER, '[number]');
}

const sha256 = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;

export function redact(
  policy: RedactionPolicy,
  record: { prompt: string; output: string },
): { prompt: string; output: string } {
  switch (policy) {
    case 'none':
      return record;
    case 'mask-emails-numbers':
      return {
        prompt: maskEmailsAndNumbers(record.prompt),
        output: maskEmailsAndNumbers(record.output),
      };
    // Hashes still let identical prompts be counted and joined, without keeping the text.
    case 'hash':
      return { prompt: sha256(record.prompt), output: sha256(record.output) };
    case 'drop-prompt':
      return { prompt: '', output: record.output };
  }
}
