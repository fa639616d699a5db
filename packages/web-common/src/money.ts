/** Integer minor units in, the currency's own decimals out; and back from what a person types. */
export function formatMoney(amount: number, currency: string, locale = 'en-GB'): string {
  const format = new Intl.NumberFormat(locale, { style: 'currency', currency });
  const exponent = format.resolvedOptions().maximumFractionDigits ?? 2;
  return format.format(amount / 10 ** exponent);
}

function exponentOf(currency: string): number {
  return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
}

/** 1250 in EUR is "12.50": for an input's value, computed with integers only. */
export function plainAmount(amount: number, currency: string): string {
  const exponent = exponentOf(currency);
  if (exponent === 0) return String(amount);
  const scale = 10 ** exponent;
  return `${Math.trunc(amount / scale)}.${String(amount % scale).padStart(exponent, '0')}`;
}

/** "12.5" in EUR is 1250; anything that is not a plain positive amount is undefined. Never a float. */
export function parseMoney(text: string, currency: string): number | undefined {
  const exponent = exponentOf(currency);
  const m = /^\s*(\d{1,9})(?:[.,](\d+))?\s*$/.exec(text);
  if (!m) return undefined;
  const fraction = m[2] ?? '';
  if (fraction.length > exponent) return undefined;
  const minor = Number(m[1]) * 10 ** exponent + Number(fraction.padEnd(exponent, '0') || '0');
  return Number.isSafeInteger(minor) && minor > 0 ? minor : undefined;
}
