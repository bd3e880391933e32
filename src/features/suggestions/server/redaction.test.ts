import { describe, expect, it } from 'vitest';
import { maskEmailsAndNumbers, redact } from './redaction';

describe('redaction', () => {
  it('masks emails and numbers', () => {
    expect(
      maskEmailsAndNumbers('Mail jane.doe+x@example.co.uk or call +1 (555) 010-9999 now'),
    ).toBe('Mail [email] or call [number] now');
    expect(maskEmailsAndNumbers('Room 7, card 4111 1111 1111 1111.')).toBe(
      'Room [number], card [number].',
    );
  });

  it('applies each policy to prompt and output', () => {
    const r = { prompt: 'to bob@x.io', output: 'call 12' };
    expect(redact('none', r)).toEqual(r);
    expect(redact('mask-emails-numbers', r)).toEqual({
      prompt: 'to [email]',
      output: 'call [number]',
    });
    expect(redact('drop-prompt', r)).toEqual({ prompt: '', output: 'call 12' });
    const hashed = redact('hash', r);
    expect(hashed.prompt).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(hashed.prompt).not.toBe(hashed.output);
  });
});
