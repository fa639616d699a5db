import { electronicFormatIBAN, isValidBIC, isValidIBAN } from 'ibantools';
import { DomainError } from '../platform/index.ts';

/** The IBAN in electronic form (upper case, no spaces) when its country format and ISO 7064 mod-97 check digits hold. */
export function checkIban(v: unknown): string {
  const iban = typeof v === 'string' ? electronicFormatIBAN(v) : null;
  if (iban === null || !isValidIBAN(iban)) {
    throw new DomainError('invalid', 'iban_invalid', 'the IBAN is not valid (its check digits or length do not match its country)');
  }
  return iban;
}

export function checkBic(v: unknown): string | null {
  if (v === undefined || v === null || v === '') return null;
  const bic = typeof v === 'string' ? v.replace(/\s+/g, '').toUpperCase() : '';
  if (!isValidBIC(bic)) throw new DomainError('invalid', 'bic_invalid', 'the BIC is not valid');
  return bic;
}

/** An account holder's name as SEPA carries it: 1 to 70 characters. */
export function checkHolderName(v: unknown): string {
  const name = typeof v === 'string' ? v.trim() : '';
  if (name.length === 0 || name.length > 70) throw new DomainError('invalid', 'holder_name_invalid', 'the account holder name is 1 to 70 characters');
  return name;
}
