/**
 * Pure rules of the members module: field validation, local time in the merchant's zone, RFM
 * scores, segments, usual days and hours, and CSV. Nothing here reads a database or a clock.
 */
import { DomainError } from '../platform/index.ts';

/** The shopper fields a programme may ask for. Each is optional for the shopper. */
export const MEMBER_FIELDS = ['name', 'phone', 'birthday', 'gender', 'email'] as const;
export type MemberField = (typeof MEMBER_FIELDS)[number];
export type MemberFields = Partial<Record<MemberField, string>>;

export const GENDERS = ['female', 'male', 'non_binary', 'other'] as const;

export function isMemberField(f: string): f is MemberField {
  return (MEMBER_FIELDS as readonly string[]).includes(f);
}

/** Checks and normalises one shared value; throws `field_invalid` with the field named. */
export function normaliseField(field: MemberField, raw: string): string {
  const v = raw.trim();
  const bad = (why: string): never => {
    throw new DomainError('invalid', 'field_invalid', `The ${field} is not valid: ${why}.`, { field });
  };
  switch (field) {
    case 'name':
      if (v.length === 0 || v.length > 100) bad('1 to 100 characters');
      return v;
    case 'phone': {
      const digits = v.replace(/[\s\-().]/g, '');
      if (!/^\+?\d{6,15}$/.test(digits)) bad('6 to 15 digits');
      return digits;
    }
    case 'email': {
      const e = v.toLowerCase();
      if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(e) || e.length > 254) bad('an e-mail address');
      return e;
    }
    case 'birthday': {
      const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
      if (!m) bad('YYYY-MM-DD');
      const d = new Date(`${v}T00:00:00Z`);
      if (Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== v || Number(m![1]) < 1900) bad('a real date');
      return v;
    }
    case 'gender':
      if (!(GENDERS as readonly string[]).includes(v)) bad(`one of ${GENDERS.join(', ')}`);
      return v;
  }
}

/** Throws `time_zone_invalid` unless Intl knows the IANA name. */
export function checkTimeZone(tz: string): string {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
  } catch {
    throw new DomainError('invalid', 'time_zone_invalid', `Unknown time zone ${tz}.`);
  }
  return tz;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const WEEKDAYS: Record<string, number> = { Mon: 0, Tue: 1, Wed: 2, Thu: 3, Fri: 4, Sat: 5, Sun: 6 };

/** Local calendar fields of an instant in an IANA zone. Weekday 0 is Monday (ISO order). */
export function localTime(ms: number, tz: string): { date: string; month: number; weekday: number; hour: number } {
  let f = formatters.get(tz);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      weekday: 'short',
      hour: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(tz, f);
  }
  const parts: Record<string, string> = {};
  for (const p of f.formatToParts(new Date(ms))) parts[p.type] = p.value;
  return {
    date: `${parts.year}-${parts.month}-${parts.day}`,
    month: Number(parts.month),
    weekday: WEEKDAYS[parts.weekday ?? ''] ?? 0,
    hour: Number(parts.hour) % 24,
  };
}

export const WEEKDAY_NAMES = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

/**
 * The few slots (weekdays or hours) that hold most visits: the busiest slots, in order, until
 * they cover 60 % of visits, at most three. Fewer than three visits show no habit yet, so none.
 */
export function usualSlots(histogram: readonly number[], maxSlots = 3, cover = 0.6): number[] {
  const total = histogram.reduce((a, b) => a + b, 0);
  if (total < 3) return [];
  const order = histogram
    .map((count, slot) => ({ slot, count }))
    .filter((s) => s.count > 0)
    .sort((a, b) => b.count - a.count || a.slot - b.slot);
  const out: number[] = [];
  let covered = 0;
  for (const s of order) {
    if (out.length >= maxSlots || covered >= cover * total) break;
    out.push(s.slot);
    covered += s.count;
  }
  return out;
}

/** The lifetime figures of one member that RFM and segments are computed from. */
export interface MemberActivity {
  memberId: string;
  joinedAt: number;
  visits: number;
  spend: number;
  lastVisitAt: number | null;
}

export interface Rfm {
  recency: number;
  frequency: number;
  monetary: number;
}

/**
 * RFM scores, 1 to 5 each, as quintiles within the merchant's members who have visited at least
 * once. Quintiles rather than fixed thresholds because a bakery and a furniture shop have nothing
 * in common in visit frequency or ticket size, and a rank needs no tuning per merchant. A score is
 * 1 + floor(5 × (share of visiting members strictly below this member)), so ties share a score and
 * the top fifth scores 5. Recency ranks by the last visit (later is better), frequency by visits,
 * monetary by net spend. Members who never visited score 1, 1, 1.
 */
export function rfmScores(population: readonly MemberActivity[]): Map<string, Rfm> {
  const score = rfmScorer(population);
  return new Map(population.map((m) => [m.memberId, score(m)]));
}

/** The scores of `rfmScores` as a function: the population is sorted once, each member scored by a binary search. */
export function rfmScorer(population: readonly MemberActivity[]): (m: Omit<MemberActivity, 'memberId' | 'joinedAt'>) => Rfm {
  const visiting = population.filter((m) => m.visits > 0 && m.lastVisitAt !== null);
  const n = visiting.length;
  const scorer = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return (v: number) => quintileScore(lowerBound(sorted, v), n);
  };
  const r = scorer(visiting.map((m) => m.lastVisitAt!));
  const f = scorer(visiting.map((m) => m.visits));
  const mo = scorer(visiting.map((m) => m.spend));
  return (m) =>
    m.visits > 0 && m.lastVisitAt !== null ? { recency: r(m.lastVisitAt), frequency: f(m.visits), monetary: mo(m.spend) } : { recency: 1, frequency: 1, monetary: 1 };
}

/** The score of a member with `below` of the `n` visiting members strictly below them. */
export function quintileScore(below: number, n: number): number {
  return n === 0 ? 1 : 1 + Math.min(4, Math.floor((5 * below) / n));
}

/** How many sorted values are strictly below v. */
function lowerBound(sorted: readonly number[], v: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export const SEGMENTS = ['new', 'active', 'at_risk', 'lapsed', 'champion'] as const;
export type Segment = (typeof SEGMENTS)[number];

export const SEGMENT_RULES = {
  /** A member who joined this recently and has visited at most `newMaxVisits` times is new. */
  newDays: 30,
  newMaxVisits: 2,
  /** No visit (or, never having visited, no join) for more than this many days: at risk. */
  atRiskDays: 45,
  /** ... and for more than this many days: lapsed. */
  lapsedDays: 90,
  /** Champions score at least this on each of R, F and M. */
  championMinScore: 4,
} as const;

const DAY = 24 * 3600 * 1000;

/**
 * The segment of a member, first rule that matches wins:
 * 1. new: joined within 30 days and at most 2 visits;
 * 2. lapsed: last activity (last visit, else the join) more than 90 days ago;
 * 3. at_risk: last activity more than 45 days ago;
 * 4. champion: R, F and M all at least 4;
 * 5. active: everyone else.
 * Absolute days for the time-based rules because "has not come for six weeks" means the same to
 * every merchant and a merchant acts on it; relative RFM only decides who the best customers are.
 */
export function segmentOf(m: Pick<MemberActivity, 'joinedAt' | 'visits' | 'lastVisitAt'>, rfm: Rfm, now: number): Segment {
  const R = SEGMENT_RULES;
  if (now - m.joinedAt <= R.newDays * DAY && m.visits <= R.newMaxVisits) return 'new';
  const idle = now - (m.lastVisitAt ?? m.joinedAt);
  if (idle > R.lapsedDays * DAY) return 'lapsed';
  if (idle > R.atRiskDays * DAY) return 'at_risk';
  if (rfm.recency >= R.championMinScore && rfm.frequency >= R.championMinScore && rfm.monetary >= R.championMinScore) return 'champion';
  return 'active';
}

// The CSV cells live in the platform, where every export shares them.
export { csvCell, csvRow } from '../platform/index.ts';
