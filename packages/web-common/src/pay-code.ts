/**
 * The one-time pay code as the portal shows it and the terminal reads it. The QR code carries a
 * prefix so that a terminal never takes an unrelated QR code (a product label, a link) for a code.
 */

export const PAY_CODE_DIGITS = 12;
const QR_PREFIX = 'FACEPAY:';

/** The text the portal puts into the QR code. */
export function payCodeQrText(code: string): string {
  return `${QR_PREFIX}${code.replace(/\s/g, '')}`;
}

/** The code in a scanned QR text, or undefined when the QR code is not a Facepay pay code. */
export function payCodeFromQr(text: string): string | undefined {
  const t = text.trim();
  if (!t.toUpperCase().startsWith(QR_PREFIX)) return undefined;
  const digits = t.slice(QR_PREFIX.length).replace(/\s/g, '');
  return new RegExp(`^\\d{${PAY_CODE_DIGITS}}$`).test(digits) ? digits : undefined;
}

/** Groups of four, as people read and type it. */
export function formatPayCode(code: string): string {
  return code.replace(/\s/g, '').replace(/(\d{4})(?=\d)/g, '$1 ');
}
