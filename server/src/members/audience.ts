/** What marketing may know of members: the audience for targeting and spend in result windows. */
import type { MemberRow } from './repo.ts';
import type { AudienceMember, MemberSummary } from './types.ts';
import { parseFields, type MembersContext } from './shared.ts';
import { createScoring } from './scoring.ts';

export function audienceOps(ctx: MembersContext) {
  const { repo, clock, mustProgramme } = ctx;
  const { summaries, summaryOf } = createScoring(ctx);
  return {
    // ---- for marketing ----

    /** Live members with what targeting needs and no contact details. */
    async audience(merchantId: string, now = clock.now().getTime()): Promise<AudienceMember[]> {
      const { rows, summaries: all } = await summaries(merchantId, now);
      const out: AudienceMember[] = [];
      for (const r of rows) {
        if (r.left_at !== null) continue;
        out.push(toAudience(r, all.get(r.id)!));
      }
      return out.sort((a, b) => (a.memberId < b.memberId ? -1 : 1));
    },

    async audienceMember(merchantId: string, memberId: string, now = clock.now().getTime()): Promise<AudienceMember | null> {
      const r = await repo.member(memberId);
      return r && r.merchant_id === merchantId && r.left_at === null ? toAudience(r, await summaryOf(r, now)) : null;
    },

    /** Net spend of each member between `from` (inclusive) and `to` (exclusive), in the programme's currency. */
    async spendInWindows(merchantId: string, windows: readonly { memberId: string; from: number; to: number }[]): Promise<Map<string, number>> {
      const out = new Map<string, number>();
      if (windows.length === 0) return out;
      const programme = await mustProgramme(merchantId);
      let from = Infinity;
      let to = -Infinity;
      for (const w of windows) {
        from = Math.min(from, w.from);
        to = Math.max(to, w.to);
      }
      const byMember = new Map<string, { at: number; net: number }[]>();
      for (const p of await repo.netSpendBetween(merchantId, from, to, programme.currency)) {
        const list = byMember.get(p.member_id);
        if (list) list.push(p);
        else byMember.set(p.member_id, [p]);
      }
      for (const w of windows) {
        let s = 0;
        for (const p of byMember.get(w.memberId) ?? []) if (p.at >= w.from && p.at < w.to) s += Number(p.net);
        out.set(w.memberId, s);
      }
      return out;
    },
  };
}

function toAudience(r: MemberRow, s: MemberSummary): AudienceMember {
  const birthday = parseFields(r.shared_fields).includes('birthday') ? r.birthday : null;
  return {
    memberId: r.id,
    joinedAt: r.joined_at,
    visits: r.visits,
    spend: r.spend,
    lastVisitAt: r.last_visit_at,
    segment: s.segment,
    birthdayMonth: birthday ? Number(birthday.slice(5, 7)) : null,
    tags: s.tags,
  };
}
