/** RFM scores and segments of members, and the CRM's filters over them. */
import { DomainError } from '../platform/index.ts';
import type { MemberRow } from './repo.ts';
import { SEGMENTS, quintileScore, rfmScorer, rfmScores, segmentOf, type Rfm } from './rules.ts';
import type { MemberFilter, MemberSummary } from './types.ts';
import { decodeCursor, sharedValues, type MembersContext } from './shared.ts';

export function createScoring(ctx: MembersContext) {
  const { repo } = ctx;

  function summarise(r: MemberRow, rfm: Rfm, tags: string[], now: number): MemberSummary {
    return {
      memberId: r.id,
      status: r.left_at === null ? 'active' : r.shopper_id === 'erased' ? 'deleted' : 'left',
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

  /**
   * One page of the members the filter selects, newest first, after the cursor. The population
   * is scored once (sorted figures, then a binary search per member) and only the members shown
   * are summarised, or, with a segment filter, those the other filters leave (a segment needs the
   * score). Same answer as slicing `filtered`.
   */
  async function filteredPage(
    merchantId: string,
    filter: MemberFilter,
    now: number,
    cursor: string | undefined,
    limit: number,
  ): Promise<{ items: MemberSummary[]; total: number; more: boolean }> {
    checkFilter(filter);
    const after = cursor === undefined ? undefined : decodeCursor(cursor);
    const rows = await repo.membersOf(merchantId);
    const tags = await repo.tagsByMember(merchantId);
    const score = rfmScorer(rows.map((r) => ({ memberId: r.id, joinedAt: r.joined_at, visits: r.visits, spend: r.spend, lastVisitAt: r.last_visit_at })));
    const full = (r: MemberRow): MemberSummary => summarise(r, score({ visits: r.visits, spend: r.spend, lastVisitAt: r.last_visit_at }), tags.get(r.id) ?? [], now);
    const { segment, ...rest } = filter;
    const selected = rows.filter((r) => {
      const lite = {
        status: r.left_at === null ? ('active' as const) : ('left' as const),
        tags: tags.get(r.id) ?? [],
        lastVisitAt: r.last_visit_at,
        spend: r.spend,
        fields: sharedValues(r),
      };
      return matches(lite, rest) && (segment === undefined || full(r).segment === segment);
    });
    selected.sort((a, b) => b.joined_at - a.joined_at || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
    let start = 0;
    if (after !== undefined) {
      const [at, id] = after;
      // Members sort by join time then id, both descending; the page starts after the cursor.
      start = selected.findIndex((r) => r.joined_at < at || (r.joined_at === at && r.id < id));
      if (start < 0) start = selected.length;
    }
    return { items: selected.slice(start, start + limit).map(full), total: selected.length, more: start + limit < selected.length };
  }

  function matches(m: Pick<MemberSummary, 'status' | 'tags' | 'lastVisitAt' | 'spend' | 'fields'> & { segment?: MemberSummary['segment'] }, f: MemberFilter): boolean {
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

  return { summaries, summaryOf, filtered, filteredPage };
}
