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
