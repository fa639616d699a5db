/**
 * Composition code for shopper rights: the ports of the rights module wired to the modules that
 * hold the shopper's data. It lives beside the composition root (like face-stack.ts) because it is
 * the one place allowed to know all of them at once.
 */
import type { FundingService } from './funding/index.ts';
import { walletAccountId, type Ledger } from './ledger/index.ts';
import { recordPlatformNotice, type MarketingService } from './marketing/index.ts';
import type { MembersService } from './members/index.ts';
import type { MerchantService } from './merchants/index.ts';
import type { PaymentService } from './payments/index.ts';
import type { DisputesService } from './disputes/index.ts';
import type { AttemptRepo } from './facepay/index.ts';
import type { RightsPorts } from './rights/index.ts';
import type { FaceTemplatePort, ShopperService } from './shoppers/index.ts';
import type { SqlExecutor } from './storage/index.ts';
import { isDomainError } from './platform/index.ts';

export interface RightsWiring {
  shoppers: ShopperService;
  faces: FaceTemplatePort;
  ledger: Ledger;
  walletCurrency: string;
  payments: PaymentService;
  funding: FundingService;
  members: MembersService;
  marketing: MarketingService;
  merchants: MerchantService;
  disputes: DisputesService;
  attempts: AttemptRepo;
  mail: { record(tx: SqlExecutor, m: { to: string; subject: string; text: string }): Promise<unknown> };
}

/** Every page of a cursor-paged list. */
async function all<T extends { id: string }>(page: (cursor: string | undefined) => Promise<{ data: T[]; hasMore: boolean }>): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | undefined;
  for (;;) {
    const p = await page(cursor);
    out.push(...p.data);
    if (!p.hasMore || p.data.length === 0) return out;
    cursor = p.data[p.data.length - 1]!.id;
  }
}

export function rightsPorts(w: RightsWiring): RightsPorts {
  const wallet = (shopperId: string): string => walletAccountId(shopperId, w.walletCurrency);
  const payments = (shopperId: string) => all((cursor) => w.payments.listForShopper(shopperId, { limit: 100, cursor }));
  return {
    shoppers: {
      get: (id) => w.shoppers.get(id),
      passwordMatches: (id, password) => w.shoppers.passwordMatches(id, password),
      closeAccount: (id) => w.shoppers.closeAccount(id),
      erasePersonal: (id) => w.shoppers.erasePersonal(id),
      consents: (id) => w.shoppers.consents(id),
      events: (id) => w.shoppers.events(id),
      deleteFace: async (id) => {
        await w.shoppers.deleteFace(id);
      },
      retentionCandidates: (before, limit, after) => w.shoppers.retentionCandidates(before, limit, after),
    },
    faces: {
      remove: (id) => w.faces.remove(id),
      describe: async (id) => (await w.faces.describe?.(id)) ?? [],
    },
    money: {
      async wallets(shopperId) {
        try {
          const a = await w.ledger.getAccount(wallet(shopperId));
          return [{ currency: a.currency, available: a.creditsPosted - a.debitsPosted - a.debitsPending, pending: a.debitsPending }];
        } catch (e) {
          if (isDomainError(e) && e.code === 'account_not_found') return [];
          throw e;
        }
      },
      async movements(shopperId) {
        const out: unknown[] = [];
        let before: string | undefined;
        for (;;) {
          const page = await w.ledger.listTransfers(wallet(shopperId), { limit: 1000, ...(before ? { before } : {}) }).catch((e: unknown) => {
            if (isDomainError(e) && e.code === 'account_not_found') return [];
            throw e;
          });
          for (const t of page)
            out.push({
              id: t.id,
              direction: t.creditAccountId === wallet(shopperId) ? 'in' : 'out',
              amount: t.amount,
              currency: t.currency,
              code: t.code,
              kind: t.kind,
              created_at: t.createdAt,
            });
          if (page.length < 1000) return out;
          before = page[page.length - 1]!.id;
        }
      },
      async payments(shopperId) {
        const names = new Map<string, string>();
        const list = await payments(shopperId);
        const out: unknown[] = [];
        for (const pi of list) {
          if (!names.has(pi.merchantId)) names.set(pi.merchantId, await w.merchants.getMerchant(pi.merchantId).then((m) => m.name, () => ''));
          out.push({
            id: pi.id,
            merchant_id: pi.merchantId,
            merchant_name: names.get(pi.merchantId),
            store_id: pi.storeId,
            amount: pi.amount,
            discount: pi.discount,
            refunded: pi.amountRefunded,
            currency: pi.currency,
            status: pi.status,
            method: pi.paymentMethod,
            coupon_id: pi.couponId,
            description: pi.description,
            created_at: pi.createdAt,
          });
        }
        return out;
      },
      async refunds(shopperId) {
        const out: unknown[] = [];
        for (const pi of (await payments(shopperId)).filter((p) => p.amountRefunded > 0)) {
          const refunds = await all((cursor) => w.payments.listRefunds(pi.merchantId, { mode: pi.mode, paymentIntentId: pi.id, limit: 100, cursor }));
          for (const r of refunds) out.push({ id: r.id, payment_id: r.paymentIntentId, amount: r.amount, currency: r.currency, reason: r.reason });
        }
        return out;
      },
      async topUps(shopperId) {
        return (await w.funding.intentsOf(shopperId)).map((i) => ({
          id: i.id,
          amount: i.amount,
          currency: i.currency,
          status: i.status,
          rail: i.rail,
          created_at: i.createdAt,
          confirmed_at: i.confirmedAt,
        }));
      },
      retireFunding: (shopperId) => w.funding.retireShopper(shopperId),
    },
    disputes: {
      ofShopper: async (shopperId) =>
        (await w.disputes.listForShopper(shopperId)).map((d) => ({
          id: d.id,
          payment_id: d.paymentIntentId,
          status: d.status,
          reason: d.reason,
          amount: d.amount,
          currency: d.currency,
          created_at: d.createdAt,
        })),
    },
    members: {
      live: async (shopperId) => (await w.members.memberships(shopperId)).map((m) => ({ merchantId: m.merchantId, memberId: m.memberId })),
      async exportOf(shopperId) {
        const out: unknown[] = [];
        for (const m of await w.members.memberships(shopperId)) {
          const p = await w.members.getMember(m.merchantId, m.memberId);
          out.push({
            merchant_id: m.merchantId,
            programme: m.programmeName,
            member_id: m.memberId,
            joined_at: m.joinedAt,
            shared_fields: m.sharedFields,
            consents: await w.members.consents(shopperId, m.merchantId),
            visits: p.visits,
            spend: p.spend,
            first_visit_at: p.firstVisitAt,
            last_visit_at: p.lastVisitAt,
            tags: p.tags,
            recent_purchases: p.recentPurchases,
          });
        }
        return out;
      },
      forget: async (shopperId) => {
        await w.members.forgetShopper(shopperId);
      },
    },
    marketing: {
      coupons: (shopperId) => w.marketing.shopperCoupons(shopperId),
      async inbox(shopperId) {
        const out: unknown[] = [];
        let cursor: string | undefined;
        for (;;) {
          const page = await w.marketing.inbox(shopperId, cursor === undefined ? { limit: 100 } : { cursor, limit: 100 });
          out.push(...page.items);
          if (page.nextCursor === null) return out;
          cursor = page.nextCursor;
        }
      },
      forget: (shopperId, ended) => w.marketing.forgetShopper(shopperId, ended),
    },
    lastFacePayments: (ids) => w.attempts.lastPaidByFace(ids),
    mail: (tx, m) => w.mail.record(tx, m),
    notice: (tx, n) => recordPlatformNotice(tx, n),
  };
}
