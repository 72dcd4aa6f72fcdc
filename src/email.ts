/**
 * Email addresses: what counts as one, and the one normalisation every comparison uses (uniqueness,
 * sign-in, moderator checks). Addresses are stored as sent; only comparisons use the normal form.
 */
import { MAX_EMAIL_LENGTH } from './limits.js';

const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+$/;

export function isEmailAddress(value: string): boolean {
  return value.length <= MAX_EMAIL_LENGTH && EMAIL_PATTERN.test(value);
}

/** Unicode NFC, then lower case: `Ada@Example.com` and `ada@example.com` are one address. */
export function normalizeEmail(email: string): string {
  return email.normalize('NFC').toLowerCase();
}
