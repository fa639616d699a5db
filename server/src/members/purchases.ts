/** Purchases: settled payments and refunds under the member id (or in the non-member daily aggregate), and bulk imports. */
import { DomainError } from '../platform/index.ts';
import { localTime } from './rules.ts';
import { amountOk, checkCurrency, type MembersContext } from './shared.ts';

export function purchasesOps(ctx: MembersContext) {
  const { repo, mustProgramme } = ctx;
  return {
    // ---- purchases ----

    /**
     * Records a settled face payment. A live member's purchase lands under their member id; a
     * non-member's only adds to the merchant's daily aggregate (kept by payment id for
     * idempotency and refunds, with no shopper or member id). Retrying a payment id is a no-op.
     */
    async recordPayment(input: {
      merchantId: string;
      shopperId: string | null;
      paymentId: string;
      storeId: string;
      amount: number;
      currency: string;
      at: number;
    }): Promise<{ memberId: string | null; recorded: boolean }> {
      if (!amountOk(input.amount)) throw new DomainError('invalid', 'amount_invalid', 'An amount is a positive whole number of minor units.');
      checkCurrency(input.currency);
      const programme = await repo.programme(input.merchantId);
      return repo.transaction(async (tx) => {
        const already = await tx.purchase(input.paymentId);
        if (already) return { memberId: already.member_id, recorded: false };
        if (await tx.lockNonmemberPayment(input.paymentId)) return { memberId: null, recorded: false };
        const member = input.shopperId === null ? undefined : await tx.liveMember(input.merchantId, input.shopperId);
        if (member === undefined) {
          const day = localTime(input.at, programme?.time_zone ?? 'UTC').date;
          const recorded = await tx.insertNonmemberPayment({
            payment_id: input.paymentId,
            merchant_id: input.merchantId,
            day,
            amount: input.amount,
            currency: input.currency,
          });
          return { memberId: null, recorded };
        }
        const recorded = await tx.insertPurchase({
          payment_id: input.paymentId,
          merchant_id: input.merchantId,
          member_id: member.id,
          store_id: input.storeId,
          amount: input.amount,
          refunded: 0,
          currency: input.currency,
          at: input.at,
        });
        if (recorded) await tx.refreshStats(member.id, programme?.currency ?? input.currency);
        return { memberId: member.id, recorded };
      });
    },

    /**
     * A refund lowers the purchase's net amount (or the aggregate's); a purchase refunded in full
     * stops counting as a visit. Idempotent per refund id; refunding more than is left is refused.
     */
    async recordRefund(input: { merchantId: string; paymentId: string; refundId: string; amount: number; at: number }): Promise<{
      memberId: string | null;
      remaining: number;
    }> {
      if (!amountOk(input.amount)) throw new DomainError('invalid', 'amount_invalid', 'An amount is a positive whole number of minor units.');
      const programme = await repo.programme(input.merchantId);
      return repo.transaction(async (tx) => {
        const p = await tx.lockPurchase(input.paymentId);
        const np = p ? undefined : await tx.lockNonmemberPayment(input.paymentId);
        const target = p ?? np;
        if (!target || target.merchant_id !== input.merchantId)
          throw new DomainError('not_found', 'payment_not_found', 'No recorded payment with this id.');
        const fresh = await tx.insertRefund(input.refundId, input.paymentId, input.amount, input.at);
        if (!fresh) return { memberId: p?.member_id ?? null, remaining: target.amount - target.refunded };
        if (target.refunded + input.amount > target.amount)
          throw new DomainError('conflict', 'refund_exceeds_payment', 'The refunds would exceed the payment.');
        if (p) {
          await tx.addPurchaseRefund(input.paymentId, input.amount);
          await tx.refreshStats(p.member_id, programme?.currency ?? p.currency);
        } else {
          await tx.addNonmemberRefund(input.paymentId, input.amount);
        }
        return { memberId: p?.member_id ?? null, remaining: target.amount - target.refunded - input.amount };
      });
    },

    /** Bulk load of past purchases of members (imports and the demo): one transaction, stats refreshed once per member. */
    async importPurchases(
      merchantId: string,
      purchases: readonly { memberId: string; paymentId: string; storeId: string; amount: number; currency: string; at: number }[],
    ): Promise<number> {
      const programme = await mustProgramme(merchantId);
      for (const p of purchases) if (!amountOk(p.amount)) throw new DomainError('invalid', 'amount_invalid', `Bad amount for ${p.paymentId}.`);
      return repo.transaction(async (tx) => {
        const touched = new Set<string>();
        let n = 0;
        for (const p of purchases) {
          if (!touched.has(p.memberId)) {
            const m = await tx.member(p.memberId);
            if (!m || m.merchant_id !== merchantId) throw new DomainError('not_found', 'member_not_found', 'No such member.');
            touched.add(p.memberId);
          }
          const ok = await tx.insertPurchase({
            payment_id: p.paymentId,
            merchant_id: merchantId,
            member_id: p.memberId,
            store_id: p.storeId,
            amount: p.amount,
            refunded: 0,
            currency: p.currency,
            at: p.at,
          });
          if (ok) n++;
        }
        for (const id of touched) await tx.refreshStats(id, programme.currency);
        return n;
      });
    },

    /** Bulk load of past non-member face payments (imports and the demo), into the daily aggregates. */
    async importNonMemberPayments(
      merchantId: string,
      payments: readonly { paymentId: string; amount: number; currency: string; at: number }[],
    ): Promise<number> {
      const tz = (await repo.programme(merchantId))?.time_zone ?? 'UTC';
      for (const p of payments) if (!amountOk(p.amount)) throw new DomainError('invalid', 'amount_invalid', `Bad amount for ${p.paymentId}.`);
      return repo.transaction(async (tx) => {
        let n = 0;
        for (const p of payments)
          if (await tx.insertNonmemberPayment({ payment_id: p.paymentId, merchant_id: merchantId, day: localTime(p.at, tz).date, amount: p.amount, currency: checkCurrency(p.currency) }))
            n++;
        return n;
      });
    },

    /** Face payments by non-members, per local day: count and net amount, nothing else. */
    async nonMemberDaily(merchantId: string, fromDay: string, toDay: string) {
      return repo.nonmemberDaily(merchantId, fromDay, toDay);
    },
  };
}
