/** The merchant's CRM: one member's profile, the filtered list and its CSV export, the overview, tags. */
import { DomainError } from '../platform/index.ts';
import type { PurchaseRow } from './repo.ts';
import { MEMBER_FIELDS, SEGMENTS, WEEKDAY_NAMES, csvRow, isMemberField, localTime, usualSlots, type MemberField, type Segment } from './rules.ts';
import type { MemberFilter, MemberProfile, MemberSummary, Page, Purchase } from './types.ts';
import { MAX_PAGE, DEFAULT_PAGE, TAG, parseFields, encodeCursor, type MembersContext } from './shared.ts';
import { createScoring } from './scoring.ts';

export function crmOps(ctx: MembersContext) {
  const { repo, clock, mustProgramme, mustMember } = ctx;
  const { summaries, summaryOf, filtered, filteredPage } = createScoring(ctx);
  return {
    // ---- CRM (merchant side) ----

    async getMember(merchantId: string, memberId: string, now = clock.now().getTime()): Promise<MemberProfile> {
      const row = await mustMember(merchantId, memberId);
      const programme = await mustProgramme(merchantId);
      const summary = await summaryOf(row, now);
      const purchases = await repo.purchasesOf(row.id);
      const weekdays = new Array<number>(7).fill(0);
      const hours = new Array<number>(24).fill(0);
      const stores = new Map<string, { storeId: string; visits: number; spend: number }>();
      for (const p of purchases) {
        if (p.amount <= p.refunded) continue;
        const t = localTime(p.at, programme.time_zone);
        weekdays[t.weekday]! += 1;
        hours[t.hour]! += 1;
        const s = stores.get(p.store_id) ?? { storeId: p.store_id, visits: 0, spend: 0 };
        s.visits += 1;
        if (p.currency === programme.currency) s.spend += p.amount - p.refunded;
        stores.set(p.store_id, s);
      }
      return {
        ...summary,
        weekdays,
        hours,
        usualDays: usualSlots(weekdays).map((d) => WEEKDAY_NAMES[d]!),
        usualHours: usualSlots(hours),
        stores: [...stores.values()].sort((a, b) => b.visits - a.visits || a.storeId.localeCompare(b.storeId)),
        recentPurchases: purchases.slice(0, 20).map(toPurchase),
      };
    },

    async listMembers(
      merchantId: string,
      filter: MemberFilter = {},
      page: { cursor?: string; limit?: number } = {},
      now = clock.now().getTime(),
    ): Promise<Page<MemberSummary>> {
      const limit = page.limit ?? DEFAULT_PAGE;
      if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE)
        throw new DomainError('invalid', 'limit_invalid', `A page holds 1 to ${MAX_PAGE} members.`);
      const { items, total, more } = await filteredPage(merchantId, filter, now, page.cursor, limit);
      const last = items[items.length - 1];
      return { items, nextCursor: more && last ? encodeCursor(last.joinedAt, last.memberId) : null, total };
    },

    /** CSV of the filtered members: consented fields only, formula-safe cells, RFC 4180 quoting. */
    async exportCsv(merchantId: string, filter: MemberFilter = {}, now = clock.now().getTime()): Promise<string> {
      const programme = await mustProgramme(merchantId);
      const members = await filtered(merchantId, filter, now);
      const asked = new Set<MemberField>(parseFields(programme.fields));
      for (const m of members) for (const k of Object.keys(m.fields)) if (isMemberField(k)) asked.add(k);
      const fieldCols = MEMBER_FIELDS.filter((f) => asked.has(f));
      const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
      let out = csvRow([
        'member_id', 'status', 'joined_at', ...fieldCols, 'visits', 'spend', 'average_ticket', 'last_visit_at',
        'recency', 'frequency', 'monetary', 'segment', 'tags',
      ]);
      for (const m of members) {
        out += csvRow([
          m.memberId, m.status, iso(m.joinedAt), ...fieldCols.map((f) => m.fields[f] ?? null), m.visits, m.spend, m.averageTicket,
          iso(m.lastVisitAt), m.rfm.recency, m.rfm.frequency, m.rfm.monetary, m.segment, m.tags.join(';'),
        ]);
      }
      return out;
    },

    /** Members per segment and the live total, for the CRM's first screen. */
    async overview(merchantId: string, now = clock.now().getTime()): Promise<{ members: number; left: number; segments: Record<Segment, number> }> {
      const { summaries: all } = await summaries(merchantId, now);
      const segments = Object.fromEntries(SEGMENTS.map((s) => [s, 0])) as Record<Segment, number>;
      let members = 0;
      let left = 0;
      for (const m of all.values()) {
        if (m.status === 'left') {
          left++;
          continue;
        }
        members++;
        segments[m.segment]++;
      }
      return { members, left, segments };
    },

    async addTag(merchantId: string, memberId: string, tag: string): Promise<string[]> {
      const t = tag.trim();
      if (!TAG.test(t)) throw new DomainError('invalid', 'tag_invalid', 'A tag is 1 to 32 letters, digits, spaces, - or _.');
      await mustMember(merchantId, memberId);
      await repo.addTag(merchantId, memberId, t);
      return repo.tagsOf(memberId);
    },

    async removeTag(merchantId: string, memberId: string, tag: string): Promise<string[]> {
      await mustMember(merchantId, memberId);
      await repo.removeTag(memberId, tag.trim());
      return repo.tagsOf(memberId);
    },
  };
}

function toPurchase(p: PurchaseRow): Purchase {
  return { paymentId: p.payment_id, storeId: p.store_id, amount: p.amount, refunded: p.refunded, currency: p.currency, at: p.at };
}
