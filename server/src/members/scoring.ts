/** RFM scores and segments of members, and the CRM's filters over them. */
import { DomainError } from '../platform/index.ts';
import type { MemberRow } from './repo.ts';
import { SEGMENTS, quintileScore, rfmScores, segmentOf, type Rfm } from './rules.ts';
import type { MemberFilter, MemberSummary } from './types.ts';
import { sharedValues, type MembersContext } from './shared.ts';

export function createScoring(ctx: MembersContext) {
  const { repo } = ctx;

  function summarise(r: MemberRow, rfm: Rfm, tags: string[], now: number): MemberSummary {
    return {
      memberId: r.id,
      status: r.left_at === null ? 'active' : 'left',
      joinedAt: r.joined_at,
      leftAt: r.left_at,
      fields: sharedValues(r),
      tags,
      visits: r.visits,
      spend: r.spend,
      averageTicket: r.visits > 0 ? Math.round(r.spend / r.visits) : 0,
      firstVisitAt: r.first_visit_at,
      lastVisitAt: r.last_visit_at,
      rfm,
      segment: segmentOf({ joinedAt: r.joined_at, visits: r.visits, lastVisitAt: r.last_visit_at }, rfm, now),
    };
  }

  /** Every member of the merchant with RFM and segment as of `now` (quintiles need the whole population). */
  async function summaries(merchantId: string, now: number): Promise<{ rows: MemberRow[]; summaries: Map<string, MemberSummary> }> {
    const rows = await repo.membersOf(merchantId);
    const tags = await repo.tagsByMember(merchantId);
    const rfm = rfmScores(rows.map((r) => ({ memberId: r.id, joinedAt: r.joined_at, visits: r.visits, spend: r.spend, lastVisitAt: r.last_visit_at })));
    const out = new Map<string, MemberSummary>();
    for (const r of rows) out.set(r.id, summarise(r, rfm.get(r.id) ?? { recency: 1, frequency: 1, monetary: 1 }, tags.get(r.id) ?? [], now));
    return { rows, summaries: out };
  }

  /** One member's summary without loading the others: the database counts who ranks below (same rule as rfmScores). */
  async function summaryOf(r: MemberRow, now: number): Promise<MemberSummary> {
    let rfm: Rfm = { recency: 1, frequency: 1, monetary: 1 };
    if (r.visits > 0 && r.last_visit_at !== null) {
      const c = await repo.rankCounts(r.merchant_id, r.last_visit_at, r.visits, r.spend);
      rfm = { recency: quintileScore(c.r, c.n), frequency: quintileScore(c.f, c.n), monetary: quintileScore(c.m, c.n) };
    }
    return summarise(r, rfm, await repo.tagsOf(r.id), now);
  }

  function checkFilter(f: MemberFilter): void {
    if (f.segment !== undefined && !(SEGMENTS as readonly string[]).includes(f.segment))
      throw new DomainError('invalid', 'segment_invalid', `A segment is one of ${SEGMENTS.join(', ')}.`);
    if (f.status !== undefined && !['active', 'left', 'all'].includes(f.status))
      throw new DomainError('invalid', 'status_invalid', 'A status is active, left or all.');
    for (const k of ['lastVisitFrom', 'lastVisitTo', 'spendMin', 'spendMax'] as const) {
      const v = f[k];
      if (v !== undefined && !Number.isSafeInteger(v)) throw new DomainError('invalid', 'filter_invalid', `${k} must be an integer.`);
    }
  }

  function matches(m: MemberSummary, f: MemberFilter): boolean {
    const status = f.status ?? 'active';
    if (status !== 'all' && m.status !== status) return false;
    if (f.segment !== undefined && m.segment !== f.segment) return false;
    if (f.tag !== undefined && !m.tags.includes(f.tag)) return false;
    if (f.lastVisitFrom !== undefined && (m.lastVisitAt === null || m.lastVisitAt < f.lastVisitFrom)) return false;
    if (f.lastVisitTo !== undefined && (m.lastVisitAt === null || m.lastVisitAt >= f.lastVisitTo)) return false;
    if (f.spendMin !== undefined && m.spend < f.spendMin) return false;
    if (f.spendMax !== undefined && m.spend > f.spendMax) return false;
    if (f.q !== undefined && f.q.trim() !== '') {
      const q = f.q.trim().toLowerCase();
      const digits = q.replace(/\D/g, '');
      const hit =
        (m.fields.name?.toLowerCase().includes(q) ?? false) ||
        (m.fields.email?.includes(q) ?? false) ||
        (digits.length >= 3 && (m.fields.phone?.includes(digits) ?? false));
      if (!hit) return false;
    }
    return true;
  }

  async function filtered(merchantId: string, filter: MemberFilter, now: number): Promise<MemberSummary[]> {
    checkFilter(filter);
    const { summaries: all } = await summaries(merchantId, now);
    return [...all.values()]
      .filter((m) => matches(m, filter))
      .sort((a, b) => b.joinedAt - a.joinedAt || (a.memberId < b.memberId ? 1 : a.memberId > b.memberId ? -1 : 0));
  }

  return { summaries, summaryOf, filtered };
}
