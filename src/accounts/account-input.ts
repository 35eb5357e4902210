import { normaliseEmail } from '../shared/email.js';
import { validationError } from '../shared/errors.js';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from './password.js';

/**
 * A user's address as stored and looked up: the contacts' normalisation
 * (shared/email.ts) and then lower-cased whole — people type their own
 * address in any case, and one person must not get two accounts.
 */
export function normaliseUserEmail(input: string): string | undefined {
  return normaliseEmail(input)?.toLowerCase();
}

export function requireUserEmail(input: string, field = 'email'): string {
  const email = normaliseUserEmail(input);
  if (!email) throw validationError('Invalid email address', [{ field, message: 'must be an email address' }]);
  return email;
}

/** A new password: 10 to 1024 characters, not only spaces. */
export function requireNewPassword(password: string, field = 'password'): string {
  if (password.length < MIN_PASSWORD_LENGTH || password.length > MAX_PASSWORD_LENGTH || password.trim() === '') {
    throw validationError('Password too weak', [
      { field, message: `must be ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters` },
    ]);
  }
  return password;
}
