import type { Clock } from '../platform/index.ts';
import { checkTimeZone, isoDate, startOfLocalDay, wallClock } from './zones.ts';

/**
 * Figures in 15-minute UTC buckets (`bucket` is the bucket's start in epoch ms). Every time zone's
 * offset is a whole number of quarter hours, so a bucket never straddles a local midnight and the
 * sources can aggregate in portable SQL without knowing the merchant's zone.
 */
export const BUCKET_MS = 15 * 60_000;

/** What the dashboard reads from the modules that own the data (wired in the composition root). */
export interface ReportSources {
  /** Succeeded payments: count, amount and amount refunded, per bucket and currency. */
  sales(merchantId: string, from: number, to: number, bucketMs: number): Promise<{ bucket: number; currency: string; count: number; amount: number; refunded: number }[]>;
  /** Payments made at a terminal, by face or by pay code, per bucket. */
  paidByMethod(merchantId: string, from: number, to: number, bucketMs: number): Promise<{ bucket: number; method: string; count: number }[]>;
  /** Members who joined, per bucket. */
  newMembers(merchantId: string, from: number, to: number, bucketMs: number): Promise<{ bucket: number; count: number }[]>;
  /** Members who bought in [from, to), and how many of them had bought before or bought again. */
  returningMembers(merchantId: string, from: number, to: number): Promise<{ active: number; returning: number }>;
  /** Coupon redemptions (not reversed), per bucket. */
  redemptions(merchantId: string, from: number, to: number, bucketMs: number): Promise<{ bucket: number; count: number; discount: number }[]>;
  /** The membership programme's currency and time zone, if the merchant set one up. */
  settings(merchantId: string): Promise<{ currency: string | null; timeZone: string | null }>;
}

export interface PeriodFigures {
  sales: number;
  refunded: number;
  payments: number;
  byFace: number;
  byPayCode: number;
  /** Share of terminal payments made by face rather than pay code; null with none. */
  faceShare: number | null;
  newMembers: number;
  redemptions: number;
  discount: number;
}

export interface DayFigures extends PeriodFigures {
  date: string;
}

export interface Dashboard {
  timeZone: string;
  currency: string;
  generatedAt: number;
  today: PeriodFigures;
  month: PeriodFigures & { activeMembers: number; returningMembers: number; returningRate: number | null };
  /** The last 30 local days, oldest first, today last. */
  daily: DayFigures[];
}

const empty = (): PeriodFigures => ({ sales: 0, refunded: 0, payments: 0, byFace: 0, byPayCode: 0, faceShare: null, newMembers: 0, redemptions: 0, discount: 0 });

function share(part: number, whole: number): number | null {
  return whole === 0 ? null : part / whole;
}

export function createReportsService(deps: { sources: ReportSources; clock: Clock; defaultCurrency: string }) {
  const { sources, clock } = deps;
  return {
    /** Sales, face share, members and redemptions for today, this month and the last 30 days, in the merchant's zone and currency. */
    async dashboard(merchantId: string, opts: { timeZone?: string | undefined } = {}): Promise<Dashboard> {
      const settings = await sources.settings(merchantId);
      const tz = checkTimeZone(opts.timeZone ?? settings.timeZone ?? 'UTC');
      const now = clock.now().getTime();
      const w = wallClock(now, tz);
      const dayStarts: number[] = [];
      for (let i = 29; i >= -1; i--) dayStarts.push(startOfLocalDay(w.y, w.m, w.d - i, tz));
      const monthStart = startOfLocalDay(w.y, w.m, 1, tz);
      const todayStart = dayStarts[29]!;
      const end = dayStarts[30]!;
      const from = Math.min(monthStart, dayStarts[0]!);

      const [sales, methods, joined, redeemed, returning] = await Promise.all([
        sources.sales(merchantId, from, end, BUCKET_MS),
        sources.paidByMethod(merchantId, from, end, BUCKET_MS),
        sources.newMembers(merchantId, from, end, BUCKET_MS),
        sources.redemptions(merchantId, from, end, BUCKET_MS),
        sources.returningMembers(merchantId, monthStart, end),
      ]);
      const byCurrency = new Map<string, number>();
      for (const s of sales) byCurrency.set(s.currency, (byCurrency.get(s.currency) ?? 0) + s.amount);
      const busiest = [...byCurrency.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
      const currency = (settings.currency ?? busiest ?? deps.defaultCurrency).toLowerCase();

      const daily: DayFigures[] = dayStarts.slice(0, 30).map((start) => {
        const d = wallClock(start + 12 * 3600_000, tz);
        return { date: isoDate(d.y, d.m, d.d), ...empty() };
      });
      const today = empty();
      const month = empty();
      // Each bucket lands in its day of the series (if within the last 30 days) and in today and
      // this month where it falls inside them.
      const targets = (bucket: number): PeriodFigures[] => {
        const out: PeriodFigures[] = [];
        if (bucket >= dayStarts[0]!) {
          let lo = 0;
          let hi = 29;
          while (lo < hi) {
            const mid = (lo + hi + 1) >> 1;
            if (dayStarts[mid]! <= bucket) lo = mid;
            else hi = mid - 1;
          }
          out.push(daily[lo]!);
        }
        if (bucket >= todayStart) out.push(today);
        if (bucket >= monthStart) out.push(month);
        return out;
      };
      for (const s of sales) {
        if (s.currency.toLowerCase() !== currency) continue;
        for (const t of targets(s.bucket)) {
          t.sales += s.amount;
          t.refunded += s.refunded;
          t.payments += s.count;
        }
      }
      for (const m of methods) {
        for (const t of targets(m.bucket)) {
          if (m.method === 'face') t.byFace += m.count;
          else if (m.method === 'pay_code') t.byPayCode += m.count;
        }
      }
      for (const j of joined) for (const t of targets(j.bucket)) t.newMembers += j.count;
      for (const r of redeemed) {
        for (const t of targets(r.bucket)) {
          t.redemptions += r.count;
          t.discount += r.discount;
        }
      }
      for (const t of [today, month, ...daily]) t.faceShare = share(t.byFace, t.byFace + t.byPayCode);
      return {
        timeZone: tz,
        currency,
        generatedAt: now,
        today,
        month: { ...month, activeMembers: returning.active, returningMembers: returning.returning, returningRate: share(returning.returning, returning.active) },
        daily,
      };
    },
  };
}

export type ReportsService = ReturnType<typeof createReportsService>;
