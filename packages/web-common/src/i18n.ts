/**
 * Languages for the web apps: message catalogues in ICU MessageFormat (plurals, selects, numbers),
 * formatted by FormatJS's intl-messageformat, with money and dates through the browser's Intl.
 *
 * Why intl-messageformat rather than i18next: the catalogues are plain objects of ICU messages, so
 * TypeScript checks that both languages have every key, and a plural is one message
 * ("{n, plural, one {# try} other {# tries}} left") rather than i18next's suffixed keys; it is the
 * formatter Lingui and react-intl run on, well kept, and about 12 kB minified in each app.
 */
import { IntlMessageFormat, type PrimitiveType } from 'intl-messageformat';

export const LOCALES = ['en', 'zh-CN'] as const;
export type Locale = (typeof LOCALES)[number];

/** What each language is called in itself, for the language switch. */
export const LOCALE_NAMES: Record<Locale, string> = { en: 'English', 'zh-CN': '简体中文' };

/** The Intl locale behind each catalogue: English dates read "7 Dec 2026, 16:47" (day first, 24 h). */
const INTL_LOCALE: Record<Locale, string> = { en: 'en-GB', 'zh-CN': 'zh-CN' };

/** Where the switch remembers the chosen language (per browser, for all three apps). */
export const LOCALE_STORAGE_KEY = 'facepay.locale';

export type Catalogue<K extends string = string> = Readonly<Record<K, string>>;
export type Catalogues<K extends string> = { readonly en: Catalogue<K>; readonly 'zh-CN': Catalogue<K> };
export type Values = Record<string, PrimitiveType>;

/**
 * The language to show: the one chosen with the switch if any, else the first of the browser's
 * languages that we have (any Chinese but Traditional goes to zh-CN), else English.
 */
export function pickLocale(languages: readonly string[], stored?: string | null): Locale {
  if (stored === 'en' || stored === 'zh-CN') return stored;
  for (const raw of languages) {
    const tag = raw.toLowerCase();
    if (tag === 'zh' || tag.startsWith('zh-cn') || tag.startsWith('zh-hans') || tag === 'zh-sg') return 'zh-CN';
    if (tag.startsWith('zh-')) continue;
    if (tag === 'en' || tag.startsWith('en-')) return 'en';
  }
  return 'en';
}

/** Merges catalogues (shared ones first, the app's last); keys must not collide, so a later one never silently replaces. */
export function mergeCatalogues<A extends string, B extends string>(a: Catalogues<A>, b: Catalogues<B>): Catalogues<A | B> {
  for (const k of Object.keys(b.en)) if (k in a.en) throw new Error(`message key ${k} is defined twice`);
  return { en: { ...a.en, ...b.en } as Catalogue<A | B>, 'zh-CN': { ...a['zh-CN'], ...b['zh-CN'] } as Catalogue<A | B> };
}

const exponents = new Map<string, number>();
function exponentOf(currency: string): number {
  let e = exponents.get(currency);
  if (e === undefined) {
    e = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
    exponents.set(currency, e);
  }
  return e;
}

export class I18n<K extends string> {
  private current: Locale;
  private readonly compiled = new Map<string, IntlMessageFormat>();
  private readonly listeners = new Set<(l: Locale) => void>();
  private formats!: { dateTime: Intl.DateTimeFormat; date: Intl.DateTimeFormat; time: Intl.DateTimeFormat; money: Map<string, Intl.NumberFormat> };

  constructor(
    readonly catalogues: Catalogues<K>,
    locale: Locale = 'en',
    private timeZone?: string,
  ) {
    this.current = locale;
    this.resetFormats();
  }

  get locale(): Locale {
    return this.current;
  }

  /** The BCP 47 tag for `lang` attributes and Intl. */
  get intlLocale(): string {
    return INTL_LOCALE[this.current];
  }

  setLocale(locale: Locale): void {
    if (locale === this.current) return;
    this.current = locale;
    this.compiled.clear();
    this.resetFormats();
    for (const l of this.listeners) l(locale);
  }

  /** Dates in this IANA time zone from now on (the console shows a merchant's dates in the merchant's zone). */
  setTimeZone(timeZone: string): void {
    this.timeZone = timeZone;
    this.resetFormats();
  }

  subscribe(listener: (l: Locale) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  has(key: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.catalogues.en, key);
  }

  /** The message for a key made at run time (a server code, a recorded reason), or undefined when the catalogue lacks it. */
  lookup(key: string, values?: Values): string | undefined {
    return this.has(key) ? this.t(key as K, values) : undefined;
  }

  /** The message for `key` in the current language, with its placeholders filled in. */
  t(key: K, values?: Values): string {
    let f = this.compiled.get(key);
    if (f === undefined) {
      const text = this.catalogues[this.current][key] ?? this.catalogues.en[key] ?? key;
      f = new IntlMessageFormat(text, this.intlLocale);
      this.compiled.set(key, f);
    }
    return String(f.format(values));
  }

  /**
   * Integer minor units in the currency's own decimals, in the current language. The narrow symbol
   * shows CNY as ¥ in both languages (a merchant trades in one currency, so there is no confusion with JPY).
   */
  money(amount: number, currency: string): string {
    const code = currency.toUpperCase();
    let f = this.formats.money.get(code);
    if (f === undefined) {
      f = new Intl.NumberFormat(this.intlLocale, { style: 'currency', currency: code, currencyDisplay: 'narrowSymbol' });
      this.formats.money.set(code, f);
    }
    return f.format(amount / 10 ** exponentOf(code));
  }

  /** The one date-and-time format of this language (epoch ms in). */
  dateTime(ms: number): string {
    return this.formats.dateTime.format(ms);
  }

  date(ms: number): string {
    return this.formats.date.format(ms);
  }

  time(ms: number): string {
    return this.formats.time.format(ms);
  }

  /** A plain number in the language's digits and grouping. */
  number(n: number): string {
    return new Intl.NumberFormat(this.intlLocale).format(n);
  }

  private resetFormats(): void {
    const tz = this.timeZone ? { timeZone: this.timeZone } : {};
    this.formats = {
      dateTime: new Intl.DateTimeFormat(this.intlLocale, { dateStyle: 'medium', timeStyle: 'short', ...tz }),
      date: new Intl.DateTimeFormat(this.intlLocale, { dateStyle: 'medium', ...tz }),
      time: new Intl.DateTimeFormat(this.intlLocale, { timeStyle: 'short', ...tz }),
      money: new Map(),
    };
  }
}

/**
 * The app's translator in a browser: language from the switch's memory or navigator.languages;
 * the page's `lang` follows, and a new choice is remembered.
 */
export function browserI18n<K extends string>(catalogues: Catalogues<K>): I18n<K> {
  let stored: string | null = null;
  try {
    stored = globalThis.localStorage?.getItem(LOCALE_STORAGE_KEY) ?? null;
  } catch {
    // Storage can be off (private mode, policies): the browser's languages decide then.
  }
  const nav = globalThis.navigator;
  const i18n = new I18n(catalogues, pickLocale(nav?.languages?.length ? nav.languages : nav?.language ? [nav.language] : [], stored));
  const mark = () => {
    if (globalThis.document) globalThis.document.documentElement.lang = i18n.intlLocale;
  };
  mark();
  i18n.subscribe((l) => {
    mark();
    try {
      globalThis.localStorage?.setItem(LOCALE_STORAGE_KEY, l);
    } catch {
      // Not remembered, but switched for this page.
    }
  });
  return i18n;
}
