/** Joining and leaving, what a member shares and the consent records, and the platform-internal lookups between shoppers and member ids. */
import { DomainError } from '../platform/index.ts';
import type { MemberRow } from './repo.ts';
import type { MemberField, MemberFields } from './rules.ts';
import { MEMBERSHIP_CONSENT, type JoinOffer, type Membership } from './types.ts';
import { parseFields, sharedValues, type MembersContext } from './shared.ts';

export function joiningOps(ctx: MembersContext) {
  const { repo, clock, publish, newMemberId, mustProgramme, checkShared, checkConsentVersion } = ctx;
  return {
    // ---- joining and leaving (terminal and portal side) ----

    /** What the terminal offers a shopper who just paid: null when there is no programme or they are already in. */
    async joinOffer(merchantId: string, shopperId: string): Promise<JoinOffer | null> {
      const p = await repo.programme(merchantId);
      if (p === undefined || (await repo.liveMember(merchantId, shopperId)) !== undefined) return null;
      const fields = parseFields(p.fields);
      return {
        merchantId,
        programmeName: p.name,
        benefits: p.benefits,
        fields,
        consentVersion: MEMBERSHIP_CONSENT.version,
        consentText: MEMBERSHIP_CONSENT.text(p.name, fields),
      };
    },

    /**
     * One tap on the terminal. `fields` holds the values the shopper agreed to share (a subset of
     * what the programme asks). Joining twice answers the live membership (`created: false`).
     * A shopper who left and joins again gets a new member id: the old history is not linked back.
     */
    async join(input: {
      merchantId: string;
      shopperId: string;
      fields: MemberFields;
      consentVersion: string;
      terminalId: string | null;
      /** Imports and the demo only: when the join happened. Never taken from a request. */
      at?: number;
    }): Promise<{ memberId: string; created: boolean; fields: MemberFields }> {
      checkConsentVersion(input.consentVersion);
      const programme = await mustProgramme(input.merchantId);
      const shared = checkShared(programme, input.fields);
      const now = input.at ?? clock.now().getTime();
      const result = await repo.transaction(async (tx) => {
        const existing = await tx.liveMember(input.merchantId, input.shopperId);
        if (existing) return { memberId: existing.id, created: false, fields: sharedValues(existing) };
        const id = newMemberId();
        const row: MemberRow = {
          id,
          merchant_id: input.merchantId,
          shopper_id: input.shopperId,
          joined_at: now,
          left_at: null,
          terminal_id: input.terminalId,
          shared_fields: shared.fields.join(','),
          name: shared.values.name ?? null,
          phone: shared.values.phone ?? null,
          birthday: shared.values.birthday ?? null,
          gender: shared.values.gender ?? null,
          email: shared.values.email ?? null,
          visits: 0,
          spend: 0,
          first_visit_at: null,
          last_visit_at: null,
        };
        if (!(await tx.insertMember(row))) {
          const raced = await tx.liveMember(input.merchantId, input.shopperId);
          if (raced) return { memberId: raced.id, created: false, fields: sharedValues(raced) };
          throw new DomainError('conflict', 'join_conflict', 'Joining clashed with another request; try again.');
        }
        await tx.insertConsent({
          id: `mcn_${id.slice(4)}`,
          member_id: id,
          merchant_id: input.merchantId,
          shopper_id: input.shopperId,
          fields: shared.fields.join(','),
          text_version: input.consentVersion,
          terminal_id: input.terminalId,
          accepted_at: now,
          withdrawn_at: null,
        });
        await publish(tx, {
          type: 'member.joined',
          merchantId: input.merchantId,
          at: now,
          data: { memberId: id, fields: shared.values, terminalId: input.terminalId },
        });
        return { memberId: id, created: true, fields: shared.values };
      });
      return result;
    },

    /** The shopper changes what they share; a new consent record replaces the old one. */
    async updateSharing(shopperId: string, merchantId: string, fields: MemberFields, consentVersion: string): Promise<Membership> {
      checkConsentVersion(consentVersion);
      const programme = await mustProgramme(merchantId);
      const shared = checkShared(programme, fields);
      const now = clock.now().getTime();
      const memberId = await repo.transaction(async (tx) => {
        const m = await tx.liveMember(merchantId, shopperId);
        if (!m) throw new DomainError('not_found', 'membership_not_found', 'You are not a member here.');
        await tx.updateSharedFields(m.id, shared.fields, shared.values);
        await tx.withdrawConsents(m.id, now);
        const n = (await tx.consents(m.id)).length;
        await tx.insertConsent({
          id: `mcn_${m.id.slice(4)}_${n}`,
          member_id: m.id,
          merchant_id: merchantId,
          shopper_id: shopperId,
          fields: shared.fields.join(','),
          text_version: consentVersion,
          terminal_id: null,
          accepted_at: now,
          withdrawn_at: null,
        });
        await publish(tx, { type: 'member.updated', merchantId, at: now, data: { memberId: m.id, fields: shared.values } });
        return m.id;
      });
      const m = (await repo.member(memberId))!;
      return { memberId, merchantId, programmeName: programme.name, benefits: programme.benefits, joinedAt: m.joined_at, sharedFields: sharedValues(m) };
    },

    /**
     * Leaving (from the portal) wipes the shared fields in the same statement that ends the
     * membership, so every later read by the merchant finds none. The purchases stay under the
     * member id, which no longer leads to anyone.
     */
    async leave(shopperId: string, merchantId: string): Promise<void> {
      const now = clock.now().getTime();
      await repo.transaction(async (tx) => {
        const m = await tx.liveMember(merchantId, shopperId);
        if (!m) throw new DomainError('not_found', 'membership_not_found', 'You are not a member here.');
        await tx.markLeft(m.id, now);
        await tx.withdrawConsents(m.id, now);
        await publish(tx, { type: 'member.left', merchantId, at: now, data: { memberId: m.id } });
      });
    },

    /**
     * The shopper deleted their account: every membership ends as if they left it, and the
     * platform forgets which shopper the old member ids were. Answers the merchants and member
     * ids concerned, so that marketing can void their coupons.
     */
    async forgetShopper(shopperId: string): Promise<{ merchantId: string; memberId: string }[]> {
      const now = clock.now().getTime();
      const ended = await repo.transaction(async (tx) => {
        const live = await tx.liveMembershipsOf(shopperId);
        for (const m of live) {
          await tx.markLeft(m.id, now);
          await tx.withdrawConsents(m.id, now);
          // Not "left": the merchant's CRM and webhooks learn that the person is gone for good.
          await publish(tx, { type: 'member.deleted', merchantId: m.merchant_id, at: now, data: { memberId: m.id } });
        }
        await tx.eraseShopper(shopperId);
        return live.map((m) => ({ merchantId: m.merchant_id, memberId: m.id }));
      });
      return ended;
    },

    /** Every live membership of a shopper, for the portal. */
    async memberships(shopperId: string): Promise<Membership[]> {
      const rows = await repo.liveMembershipsOf(shopperId);
      const out: Membership[] = [];
      for (const r of rows) {
        const p = await repo.programme(r.merchant_id);
        out.push({
          memberId: r.id,
          merchantId: r.merchant_id,
          programmeName: p?.name ?? '',
          benefits: p?.benefits ?? '',
          joinedAt: r.joined_at,
          sharedFields: sharedValues(r),
        });
      }
      return out;
    },

    async consents(shopperId: string, merchantId: string): Promise<{ fields: MemberField[]; textVersion: string; terminalId: string | null; acceptedAt: number; withdrawnAt: number | null }[]> {
      const m = await repo.liveMember(merchantId, shopperId);
      if (!m) throw new DomainError('not_found', 'membership_not_found', 'You are not a member here.');
      return (await repo.consents(m.id)).map((c) => ({
        fields: parseFields(c.fields),
        textVersion: c.text_version,
        terminalId: c.terminal_id,
        acceptedAt: c.accepted_at,
        withdrawnAt: c.withdrawn_at,
      }));
    },

    // ---- platform-internal lookups (never exposed to a merchant) ----

    /** The live member id of a shopper at a merchant, or null: for payments and offers. */
    async memberIdFor(merchantId: string, shopperId: string): Promise<string | null> {
      return (await repo.liveMember(merchantId, shopperId))?.id ?? null;
    },

    /**
     * The member id each of these payments was recorded under, for the merchant's lists of
     * payments; a non-member's payment (or another merchant's) is left out.
     */
    async memberIdsOfPayments(merchantId: string, paymentIds: readonly string[]): Promise<Map<string, string>> {
      const rows = await repo.purchaseMembers(merchantId, [...new Set(paymentIds)]);
      return new Map(rows.map((r) => [r.payment_id, r.member_id]));
    },

    /** The shopper behind a live member id, or null once they left: for delivering to their inbox only. */
    async shopperIdFor(merchantId: string, memberId: string): Promise<string | null> {
      const m = await repo.member(memberId);
      return m && m.merchant_id === merchantId && m.left_at === null ? m.shopper_id : null;
    },
  };
}
