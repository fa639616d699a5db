/**
 * What the admin types for a fee rate, read the way the server reads it (fees.ts in settlement):
 * a percentage becomes whole basis points, and the first day is a real date after today and at
 * most two years ahead. Kept apart from the page so the rules are tested without a browser.
 */
import { i18n } from '../messages.ts';

/** Basis points as the percentage they are (250 → 2.5%), in the reader's language. */
export const rateText = (bps: number): string => new Intl.NumberFormat(i18n.intlLocale, { style: 'percent', maximumFractionDigits: 2 }).format(bps / 10_000);

/** A percentage typed by the admin as whole basis points: at most two decimals, from 0 to 100. */
export function parseRate(text: string): number | undefined {
  const m = /^\s*(\d{1,3})(?:[.,](\d{1,2}))?\s*%?\s*$/.exec(text);
  if (!m) return undefined;
  const bps = Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
  return bps <= 10_000 ? bps : undefined;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const pad = (n: number): string => String(n).padStart(2, '0');
export const dayOf = (d: Date): string => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;

/**
 * The checks the server makes on the day, against the reader's calendar: a real date, after today
 * and at most two years ahead. The server decides in the merchant's time zone and says the
 * earliest day it accepts when the two calendars disagree.
 */
export function dayProblem(day: string, now: Date): 'effective_from_invalid' | 'effective_from_not_future' | 'effective_from_too_far' | undefined {
  const m = DATE.exec(day);
  if (!m) return 'effective_from_invalid';
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  if (dayOf(d) !== day) return 'effective_from_invalid';
  if (day <= dayOf(now)) return 'effective_from_not_future';
  if (d.getTime() - now.getTime() > 2 * 366 * 86_400_000) return 'effective_from_too_far';
  return undefined;
}

