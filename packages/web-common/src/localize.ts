/**
 * Pieces of the shared catalogues that need a little logic: a server error in the reader's
 * language, and the payment method, member field and gender words.
 */
import type { Values } from './i18n.ts';
import { commonMessages, type CommonKey } from './messages/common.ts';
import { errorMessages, type ErrorKey } from './messages/errors.ts';
import { mergeCatalogues } from './i18n.ts';
import type { MemberField } from './member-fields.ts';

export type SharedKey = CommonKey | ErrorKey;

/** What these helpers need of an app's I18n (whatever its own keys). */
export interface Translator {
  t(key: SharedKey, values?: Values): string;
  lookup(key: string, values?: Values): string | undefined;
  money(amount: number, currency: string): string;
  readonly locale: string;
}
export const sharedMessages = mergeCatalogues(commonMessages, errorMessages);

/** What a failed call tells the screen: the API's stable code, its HTTP status and details where there was an answer. */
export interface ErrorLike {
  code?: string;
  status?: number;
  details?: Record<string, unknown>;
  /** The server's own words (English). */
  message?: string;
}

/**
 * A server error in words of the current language, never the server's own English text. Money in
 * the details (minor units) is formatted in `currency`; a code the catalogue lacks is named.
 */
export function describeError(i18n: Translator, e: ErrorLike | undefined, currency?: string): string {
  if (e === undefined || e.code === undefined || e.status === undefined || e.status === 0) return i18n.t('error.network');
  const values: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(e.details ?? {})) {
    if (typeof v === 'number') values[k] = currency && (k === 'limit' || k.startsWith('amount') || k.startsWith('refunded')) ? i18n.money(v, currency) : v;
    else if (typeof v === 'string') values[k] = v;
  }
  const text = i18n.lookup(`error.${e.code}`, values);
  if (text !== undefined) return text;
  if (e.status >= 500) return i18n.t('error.server');
  // The server writes its messages in English: for a code the catalogue lacks yet, an English
  // reader gets those words rather than a bare code; other languages name the code.
  if (i18n.locale === 'en' && e.message) return e.message;
  return i18n.t('error.unknown', { code: e.code });
}

export function methodText(i18n: Translator, method: string | null | undefined): string {
  if (method === null || method === undefined) return i18n.t('method.none');
  return i18n.lookup(`method.${method}`) ?? method.replace(/_/g, ' ');
}

export function fieldText(i18n: Translator, field: MemberField | string): string {
  return i18n.lookup(`field.${field}`) ?? field;
}

export function genderText(i18n: Translator, value: string): string {
  return i18n.lookup(`gender.${value}`) ?? value;
}

export const GENDERS = ['female', 'male', 'non_binary', 'other'] as const;
