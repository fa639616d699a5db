import { createHash } from 'node:crypto';
import { DomainError } from '../platform/index.ts';

/** ISO 7064 MOD 97-10 over an alphanumeric string, letters as 10..35 (as IBANs and RF references use it). */
function mod97(s: string): number {
  let r = 0;
  for (const ch of s) {
    const v = parseInt(ch, 36);
    r = v >= 10 ? (r * 100 + v) % 97 : (r * 10 + v) % 97;
  }
  return r;
}

/** The ISO 11649 RF creditor reference for a body of 1 to 21 letters and digits: `RF` + 2 check digits + body. */
export function rfReference(body: string): string {
  const b = body.toUpperCase();
  if (!/^[A-Z0-9]{1,21}$/.test(b)) throw new DomainError('invalid', 'reference_invalid', 'an RF reference body is 1 to 21 letters or digits');
  const check = 98 - mod97(`${b}RF00`);
  return `RF${String(check).padStart(2, '0')}${b}`;
}

/** The reference in its canonical form (upper case, no spaces) when its check digits hold, else null. */
export function parseRfReference(text: string): string | null {
  const s = text.replace(/\s+/g, '').toUpperCase();
  if (!/^RF\d{2}[A-Z0-9]{1,21}$/.test(s)) return null;
  return mod97(`${s.slice(4)}${s.slice(0, 4)}`) === 1 ? s : null;
}

/** A shopper's reference body: derived from the id, so it is stable and needs no counter. */
export function referenceBody(shopperId: string): string {
  return `FP${BigInt(`0x${createHash('sha256').update(shopperId).digest('hex').slice(0, 16)}`).toString(36).toUpperCase()}`;
}
