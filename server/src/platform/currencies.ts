/**
 * The active ISO 4217 currency codes (the standard's list one, less funds codes, precious metals
 * and testing codes such as XTS and XXX), so that "abc" is refused rather than opening a ledger
 * account nobody can settle. Amounts everywhere are integers in the currency's minor unit.
 */
const CODES =
  'AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK ' +
  'DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF ' +
  'KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK ' +
  'PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX ' +
  'USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG';

export const ISO_4217: ReadonlySet<string> = new Set(CODES.split(' '));

/** Whether `code` (any case) is an active ISO 4217 currency. */
export function isCurrency(code: string): boolean {
  return typeof code === 'string' && code.length === 3 && ISO_4217.has(code.toUpperCase());
}

const moneyFormats = new Map<string, { format: Intl.NumberFormat; digits: number }>();

function moneyFormat(currency: string): { format: Intl.NumberFormat; digits: number } {
  const code = currency.toUpperCase();
  let f = moneyFormats.get(code);
  if (f === undefined) {
    const format = new Intl.NumberFormat('en-GB', { style: 'currency', currency: code });
    f = { format, digits: format.resolvedOptions().maximumFractionDigits ?? 2 };
    moneyFormats.set(code, f);
  }
  return f;
}

/**
 * An amount in minor units as a plain decimal in its currency's major unit ("24.00" for 2400 EUR,
 * "1000" for 1000 JPY), for files that spreadsheets and accounting tools read. It is worked out on
 * the digits, not by division, so that no amount is ever rounded by floating point.
 */
export function amountAsDecimal(amount: number, currency: string): string {
  const { digits } = moneyFormat(currency);
  const sign = amount < 0 ? '-' : '';
  const text = String(Math.abs(amount)).padStart(digits + 1, '0');
  return digits === 0 ? `${sign}${text}` : `${sign}${text.slice(0, -digits)}.${text.slice(-digits)}`;
}

/**
 * An amount in minor units as the currency writes it, for messages meant for people ("€20.00",
 * "¥1,000", "JP¥1,000"): never raw minor units, which nobody reads as money.
 */
export function formatMoney(amount: number, currency: string): string {
  const f = moneyFormat(currency);
  return f.format.format(amount / 10 ** f.digits);
}
