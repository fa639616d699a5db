/**
 * Per-merchant platform fee rates. The operator sets a merchant's rate in basis points from a
 * local day on (the merchant's time zone, the day its statements use); a rate only ever starts on
 * a day that has not begun, so every statement day is charged at one rate and no fee already
 * taken changes. Rates are rows that are never edited: the history is the audit trail of who set
 * what, when and why. A merchant without a rate pays the server's default.
 */
import { DomainError, type Clock, type IdGenerator } from '../platform/index.ts';
import { isoDate, startOfLocalDay, wallClock } from '../reports/index.ts';
import type { Db, SqlExecutor } from '../storage/index.ts';
import * as repo from './fees-repo.ts';

export interface FeeRate {
  id: string;
  merchantId: string;
  /** Basis points of each payment (100 = 1 %), rounded down to the minor unit. */
  bps: number;
  /** The first local day (YYYY-MM-DD) charged at this rate. */
  effectiveFrom: string;
  /** The start of that day in `timeZone`, in ms. */
  effectiveAt: number;
  timeZone: string;
  /** The operator staff member who set it. */
  setBy: string;
  reason: string;
  createdAt: number;
}

export interface FeeScheduleDeps {
  db: Db;
  clock: Clock;
  ids: IdGenerator;
  /** The server's rate (FACEPAY_PLATFORM_FEE_BPS) for merchants without one of their own. */
  defaultBps: number;
  timeZoneOf(merchantId: string): Promise<string>;
  merchantExists(merchantId: string): Promise<boolean>;
}

const KEY = /^[\x21-\x7e]{8,255}$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
/** A rate set further ahead than this is more likely a typo than a plan. */
const MAX_AHEAD_MS = 2 * 366 * 86_400_000;

export function createFeeSchedule({ db, clock, ids, defaultBps, timeZoneOf, merchantExists }: FeeScheduleDeps) {
  async function bpsAt(x: SqlExecutor, merchantId: string, at: number): Promise<number> {
    return (await repo.rateAt(x, merchantId, at))?.bps ?? defaultBps;
  }

  return {
    defaultBps,

    /** The rate a payment of the merchant made at `at` is charged, read inside the payment's transaction. */
    bpsAt,

    /**
     * Sets the merchant's rate from a local day that has not begun yet. Set again for the same day,
     * the later one applies. `key` (an Idempotency-Key) makes a retry answer the same rate.
     */
    async set(staffId: string, merchantId: string, input: { bps: unknown; effectiveFrom: unknown; reason: unknown }, key: string): Promise<FeeRate> {
      if (!KEY.test(key)) throw new DomainError('invalid', 'idempotency_key_required', 'send an Idempotency-Key (8 to 255 printable characters)');
      const { bps, effectiveFrom, reason } = input;
      if (typeof bps !== 'number' || !Number.isInteger(bps) || bps < 0 || bps > 10_000) {
        throw new DomainError('invalid', 'fee_rate_invalid', 'a fee rate is a whole number of basis points from 0 to 10000 (100 = 1 %)');
      }
      const m = typeof effectiveFrom === 'string' ? DATE.exec(effectiveFrom) : null;
      const [y, mo, d] = m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [0, 0, 0];
      if (!m || isoDate(y, mo, d) !== effectiveFrom) throw new DomainError('invalid', 'effective_from_invalid', 'effective_from is a date, YYYY-MM-DD');
      const why = typeof reason === 'string' ? reason.trim() : '';
      if (why.length === 0 || why.length > 500) throw new DomainError('invalid', 'reason_invalid', 'say why the rate changes (1 to 500 characters)');
      const requestRef = `${staffId}:${key}`;
      const seen = await repo.rateByRequest(db, requestRef);
      if (seen) {
        if (seen.merchantId !== merchantId || seen.bps !== bps || seen.effectiveFrom !== effectiveFrom) {
          throw new DomainError('conflict', 'idempotency_key_reused', 'this Idempotency-Key was used for another fee rate');
        }
        return seen;
      }
      if (!(await merchantExists(merchantId))) throw new DomainError('not_found', 'merchant_not_found', `no merchant ${merchantId}`);
      const timeZone = await timeZoneOf(merchantId);
      const effectiveAt = startOfLocalDay(y, mo, d, timeZone);
      const now = clock.now().getTime();
      if (effectiveAt <= now) {
        const w = wallClock(now, timeZone);
        throw new DomainError('invalid', 'effective_from_not_future', `a new rate starts on a day that has not begun in ${timeZone}: ${isoDate(w.y, w.m, w.d + 1)} or later`, {
          earliest: isoDate(w.y, w.m, w.d + 1),
        });
      }
      if (effectiveAt - now > MAX_AHEAD_MS) throw new DomainError('invalid', 'effective_from_too_far', 'a rate is set at most two years ahead');
      const rate: FeeRate = { id: ids.next('fee'), merchantId, bps, effectiveFrom: effectiveFrom as string, effectiveAt, timeZone, setBy: staffId, reason: why, createdAt: now };
      if (!(await repo.insertRate(db, { ...rate, requestRef }))) return (await repo.rateByRequest(db, requestRef))!;
      return rate;
    },

    /** The rate in effect now (the merchant's or the default), the rates to come, and the whole history, newest first. */
    async of(merchantId: string): Promise<{ bps: number; source: 'merchant' | 'default'; current: FeeRate | null; scheduled: FeeRate[]; history: FeeRate[] }> {
      const now = clock.now().getTime();
      const current = await repo.rateAt(db, merchantId, now);
      const history = await repo.history(db, merchantId, 500);
      // Of the rates set for one future day, the last one set is the one that will apply.
      const ahead = new Map<number, FeeRate>();
      for (const r of [...history].reverse()) if (r.effectiveAt > now) ahead.set(r.effectiveAt, r);
      const scheduled = [...ahead.values()].sort((a, b) => a.effectiveAt - b.effectiveAt);
      return { bps: current?.bps ?? defaultBps, source: current ? 'merchant' : 'default', current, scheduled, history };
    },

    /**
     * Every platform fee transfer against the rate it names (`metadata.bps`) and the payment it was
     * taken on: the fee is that rate of the payment, rounded down, and the rate is the merchant's
     * own in effect at the time when there was one. Fees from before rates were recorded name none
     * and are only checked to be below the payment.
     */
    async audit(): Promise<{ fees: number; problems: string[] }> {
      const rates = new Map<string, FeeRate[]>();
      for (const r of await repo.allRates(db)) rates.set(r.merchantId, [...(rates.get(r.merchantId) ?? []), r]);
      const inEffect = (merchantId: string, at: number): FeeRate | null => {
        let best: FeeRate | null = null;
        for (const r of rates.get(merchantId) ?? []) {
          if (r.effectiveAt <= at && (!best || r.effectiveAt > best.effectiveAt || (r.effectiveAt === best.effectiveAt && r.createdAt >= best.createdAt))) best = r;
        }
        return best;
      };
      const problems: string[] = [];
      let fees = 0;
      let after = '';
      for (;;) {
        const page = await repo.feesWithPayments(db, after, 5000);
        for (const f of page) {
          fees++;
          if (f.paid === null || f.merchantAccount === null) {
            problems.push(`fee ${f.id} has no payment beside it`);
            continue;
          }
          const merchantId = /^merchant:(.+?)(?::test)?:[a-z]{3}$/.exec(f.merchantAccount)?.[1] ?? '';
          const meta = JSON.parse(f.metadata) as { bps?: unknown };
          if (meta.bps === undefined) {
            if (f.fee > f.paid) problems.push(`fee ${f.id} is more than its payment`);
            continue;
          }
          const bps = Number(meta.bps);
          if (Number((BigInt(f.paid) * BigInt(bps)) / 10_000n) !== f.fee) problems.push(`fee ${f.id} is not ${bps} bps of ${f.paid}`);
          const r = inEffect(merchantId, f.createdAt);
          if (r && r.bps !== bps) problems.push(`fee ${f.id} was taken at ${bps} bps while ${merchantId}'s rate was ${r.bps}`);
        }
        if (page.length < 5000) break;
        after = page[page.length - 1]!.id;
      }
      return { fees, problems };
    },
  };
}

export type FeeSchedule = ReturnType<typeof createFeeSchedule>;
