/**
 * PII scrub applied to every exported text on top of the feature's own redaction policy: the
 * feature may store text unmasked for serving quality, but nothing identifying leaves in a dataset.
 */
const EMAIL = /[\p{L}\p{N}._%+-]+@[\p{L}\p{N}.-]+\.\p{L}{2,}/gu;
// 13–19 digits, optionally grouped by spaces or dashes: card and account numbers.
const CARD = /\b\d(?:[ -]?\d){12,18}\b/g;
// Phone numbers: 7+ digits with the usual separators, optionally an international prefix.
const PHONE = /(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]?\d{2,4}){1,4}/g;

const digitCount = (s: string) => s.replace(/\D/g, '').length;

export function scrubPii(text: string): string {
  // The email pattern backtracks over every long run of word characters; without an "@" it
  // cannot match, so skip it (a 5,000-character word otherwise costs ~10⁷ steps).
  return (text.includes('@') ? text.replace(EMAIL, '[email]') : text)
    .replace(CARD, '[card]')
    .replace(PHONE, (match) => (digitCount(match) >= 7 ? '[phone]' : match));
}
