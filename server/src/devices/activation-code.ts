import { createHmac } from 'node:crypto';
import type { Random } from '../platform/index.ts';

/**
 * Activation codes are typed by a person on a tablet: ten characters of Crockford's base32 (no I,
 * L, O or U), shown as two groups of five. Fifty random bits, short-lived and single use, are far
 * beyond online guessing. Offline they are not: fifty bits fall to a GPU in hours, so a plain hash
 * in the database would hand every pending code to whoever copies it. What is stored is an
 * HMAC-SHA-256 keyed by a secret that lives outside the database (derived from the master key, see
 * composition.ts), so a copy of the database alone yields no code.
 */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export const ACTIVATION_CODE_LENGTH = 10;

export function newActivationCode(random: Random): string {
  let code = '';
  // 256 is a multiple of 32, so taking each byte modulo 32 keeps the characters uniform.
  for (const b of random.bytes(ACTIVATION_CODE_LENGTH)) code += ALPHABET[b % 32];
  return `${code.slice(0, 5)}-${code.slice(5)}`;
}

/** The code as typed to its canonical form, or undefined when it cannot be one: case, dashes and spaces are ignored and look-alikes mapped. */
export function normaliseActivationCode(typed: string): string | undefined {
  const code = typed
    .toUpperCase()
    .replace(/[\s-]/g, '')
    .replace(/[IL]/g, '1')
    .replace(/O/g, '0');
  if (code.length !== ACTIVATION_CODE_LENGTH) return undefined;
  for (const ch of code) if (!ALPHABET.includes(ch)) return undefined;
  return code;
}

/** The stored form of a code: HMAC-SHA-256 under the platform's activation-code secret, hex. */
export function hashActivationCode(secret: Buffer, normalised: string): string {
  return createHmac('sha256', secret).update(`facepay-activation:${normalised}`).digest('hex');
}
