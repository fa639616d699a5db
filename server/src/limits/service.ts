/**
 * Platform limits that the operator's admins set at run time: the most a shopper pays in one
 * payment and in a day, and the most one top-up and one day's top-ups may be. The server's
 * configuration (FACEPAY_SHOPPER_PAYMENT_LIMIT, FACEPAY_SHOPPER_DAILY_LIMIT, FACEPAY_TOP_UP_CAP,
 * FACEPAY_TOP_UP_DAILY_CAP) gives the defaults until an admin sets a value.
 *
 * The services that apply a limit ask `current()` at the moment they apply it. It keeps what it
 * read for `cacheMs` (5 s unless given): a change made in this process applies at once, and the
 * other processes sharing the database see it within that time.
 */
import { DomainError, type Clock, type IdGenerator } from '../platform/index.ts';
import type { Db } from '../storage/index.ts';
import * as repo from './repo.ts';

export const LIMIT_KEYS = ['shopper_payment_limit', 'shopper_daily_limit', 'top_up_cap', 'top_up_daily_cap'] as const;
export type LimitKey = (typeof LIMIT_KEYS)[number];

/** Each limit in minor units of any currency. */
export interface PlatformLimits {
  shopperPaymentLimit: number;
  shopperDailyLimit: number;
  topUpCap: number;
  topUpDailyCap: number;
}

const FIELD: Record<LimitKey, keyof PlatformLimits> = {
  shopper_payment_limit: 'shopperPaymentLimit',
  shopper_daily_limit: 'shopperDailyLimit',
  top_up_cap: 'topUpCap',
  top_up_daily_cap: 'topUpDailyCap',
};

export interface PlatformLimit {
  key: LimitKey;
  value: number;
  /** The configured value, in effect while no admin has set one. */
  defaultValue: number;
  source: 'operator' | 'default';
  updatedAt: number | null;
  updatedBy: string | null;
}

export interface LimitChange {
  id: string;
  key: LimitKey;
  oldValue: number;
  newValue: number;
  changedBy: string;
  changedAt: number;
}

export interface PlatformLimitsDeps {
  db: Db;
  clock: Clock;
  ids: IdGenerator;
  defaults: PlatformLimits;
  cacheMs?: number;
}

const isKey = (k: string): k is LimitKey => (LIMIT_KEYS as readonly string[]).includes(k);

export function createPlatformLimits({ db, clock, ids, defaults, cacheMs = 5000 }: PlatformLimitsDeps) {
  let cached: { at: number; limits: PlatformLimits } | undefined;

  function view(rows: repo.LimitRow[]): PlatformLimit[] {
    const set = new Map(rows.map((r) => [r.key, r]));
    return LIMIT_KEYS.map((key) => {
      const r = set.get(key);
      const defaultValue = defaults[FIELD[key]];
      return r
        ? { key, value: r.value, defaultValue, source: 'operator' as const, updatedAt: r.updatedAt, updatedBy: r.updatedBy }
        : { key, value: defaultValue, defaultValue, source: 'default' as const, updatedAt: null, updatedBy: null };
    });
  }

  function toLimits(list: PlatformLimit[]): PlatformLimits {
    const out = { ...defaults };
    for (const l of list) out[FIELD[l.key]] = l.value;
    return out;
  }

  return {
    /** The limits in effect, at most `cacheMs` old. */
    async current(): Promise<PlatformLimits> {
      const now = clock.now().getTime();
      if (cached && now - cached.at < cacheMs && now >= cached.at) return cached.limits;
      const limits = toLimits(view(await repo.allLimits(db)));
      cached = { at: now, limits };
      return limits;
    },

    /** Every limit, read now, with where its value comes from. */
    async list(): Promise<PlatformLimit[]> {
      return view(await repo.allLimits(db));
    },

    /**
     * Sets the limits named in `changes` (key → minor units) and answers them all. A value equal
     * to the one in effect changes nothing and writes no audit row, so a repeated submit changes once.
     */
    async set(staffId: string, changes: Record<string, unknown>): Promise<PlatformLimit[]> {
      const entries = Object.entries(changes);
      if (entries.length === 0) throw new DomainError('invalid', 'limit_changes_missing', `name at least one limit to change: ${LIMIT_KEYS.join(', ')}`);
      const wanted: [LimitKey, number][] = [];
      for (const [key, value] of entries) {
        if (!isKey(key)) throw new DomainError('invalid', 'limit_unknown', `there is no platform limit ${key}: the limits are ${LIMIT_KEYS.join(', ')}`, { key });
        if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
          throw new DomainError('invalid', 'limit_invalid', `${key} is a whole number of minor units from 1 to ${Number.MAX_SAFE_INTEGER}`, { key });
        }
        wanted.push([key, value]);
      }
      const now = clock.now().getTime();
      // Serialisable, so two admins changing the same limit at once each record the value the other left.
      const after = await db.transaction(async (tx) => {
        const before = view(await repo.allLimits(tx, true));
        for (const [key, value] of wanted) {
          const old = before.find((l) => l.key === key)!;
          if (old.value === value) continue;
          await repo.upsertLimit(tx, { key, value, updatedAt: now, updatedBy: staffId });
          await repo.insertChange(tx, { id: ids.next('plc'), key, oldValue: old.value, newValue: value, changedBy: staffId, changedAt: now });
        }
        return view(await repo.allLimits(tx));
      }, { serializable: true });
      cached = { at: now, limits: toLimits(after) };
      return after;
    },

    /** The latest changes, newest first: who changed which limit from what to what, and when. */
    async changes(limit = 50): Promise<LimitChange[]> {
      return (await repo.changes(db, Math.min(Math.max(limit, 1), 500))).map((c) => ({ ...c, key: c.key as LimitKey }));
    },
  };
}

export type PlatformLimitsService = ReturnType<typeof createPlatformLimits>;
