/**
 * Reach after the visit: messages to an audience, platform notices and receipts in the shopper's
 * inbox, reading it, per-merchant mutes, and forgetting a shopper who deleted their account.
 */
import { DomainError } from '../platform/index.ts';
import type { InboxRow } from './repo.ts';
import { checkAudience, inAudience, type Audience, type Reward } from './rules.ts';
import type { InboxItem } from './types.ts';
import { MAX_INBOX_PAGE, checkMessage, inboxRow, money, type MarketingContext } from './shared.ts';

export function inboxOps(ctx: MarketingContext) {
  const { repo, members, clock, ids, publish, currentMonth } = ctx;

  async function inbox(shopperId: string, page: { cursor?: string; limit?: number } = {}, now = clock.now().getTime()): Promise<{ items: InboxItem[]; nextCursor: string | null }> {
    const limit = page.limit ?? 30;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_INBOX_PAGE)
      throw new DomainError('invalid', 'limit_invalid', `A page holds 1 to ${MAX_INBOX_PAGE} items.`);
    let before: { at: number; id: string } | undefined;
    if (page.cursor !== undefined) {
      const [at, id] = page.cursor.split('.');
      if (!at || !id || !/^\d+$/.test(at)) throw new DomainError('invalid', 'cursor_invalid', 'The page cursor is not valid.');
      before = { at: Number(at), id };
    }
    const rows = await repo.inbox(shopperId, limit + 1, before);
    const items: InboxItem[] = [];
    for (const r of rows.slice(0, limit)) items.push(await toInboxItem(r, now));
    const last = rows.length > limit ? rows[limit - 1] : undefined;
    return { items, nextCursor: last ? `${last.created_at}.${last.id}` : null };
  }

  async function toInboxItem(r: InboxRow, now: number): Promise<InboxItem> {
    let coupon: InboxItem['coupon'] = null;
    if (r.coupon_id !== null) {
      const c = await repo.coupon(r.coupon_id);
      if (c) {
        const status = c.status === 'issued' && c.valid_to <= now ? 'expired' : (c.status as 'issued' | 'redeemed' | 'void');
        coupon = { couponId: c.id, reward: JSON.parse(c.reward) as Reward, currency: c.currency, validTo: c.valid_to, status };
      }
    }
    return {
      id: r.id,
      merchantId: r.merchant_id,
      kind: r.kind as InboxItem['kind'],
      title: r.title,
      body: r.body,
      createdAt: r.created_at,
      readAt: r.read_at,
      payment: r.payment_id !== null && r.amount !== null && r.currency !== null ? { paymentId: r.payment_id, amount: r.amount, discount: Number(r.discount), currency: r.currency } : null,
      coupon,
    };
  }

  return {
    // ---- reach after the visit ----

    /** A message to an audience: into each live member's inbox and out as an event, except to shoppers who muted the merchant. */
    async sendMessage(merchantId: string, input: { audience: Audience; title: string; body: string }): Promise<{ messageId: string; recipients: number; muted: number }> {
      const title = input.title.trim();
      checkMessage(title, input.body);
      const audience = checkAudience(input.audience);
      const at = clock.now().getTime();
      const month = await currentMonth(merchantId, at);
      const messageId = ids.next('msg');
      let recipients = 0;
      let muted = 0;
      for (const m of await members.audience(merchantId, at)) {
        if (!inAudience(audience, m, at, month)) continue;
        const shopperId = await members.shopperIdFor(merchantId, m.memberId);
        if (shopperId === null) continue;
        if (await repo.isMuted(shopperId, merchantId)) {
          muted++;
          continue;
        }
        await repo.transaction(async (tx) => {
          await tx.insertInbox(inboxRow({ id: ids.next('inb'), shopper_id: shopperId, merchant_id: merchantId, kind: 'message', title, body: input.body, created_at: at }));
          await publish(tx, { type: 'message.sent', merchantId, objectId: messageId, at, data: { memberId: m.memberId, messageId, title, body: input.body } });
        });
        recipients++;
      }
      await repo.insertMessage({ id: messageId, merchant_id: merchantId, audience: JSON.stringify(audience), title, body: input.body, sent_at: at, recipients, muted });
      return { messageId, recipients, muted };
    },

    /** A notice to one shopper from the platform about their account (face pay locked, say), shown as a message. */
    async addNotice(input: { shopperId: string; merchantId: string; title: string; body: string; at: number }): Promise<void> {
      await repo.insertInbox(
        inboxRow({ id: ids.next('inb'), shopper_id: input.shopperId, merchant_id: input.merchantId, kind: 'message', title: input.title, body: input.body, created_at: input.at }),
      );
    },

    /** A receipt in the shopper's inbox (payments calls it once a payment settles); idempotent per payment. */
    async addReceipt(input: { shopperId: string; merchantId: string; merchantName: string; paymentId: string; amount: number; currency: string; discount?: number; at: number }): Promise<void> {
      const discount = input.discount ?? 0;
      await repo.insertInbox(
        inboxRow({
          id: ids.next('inb'),
          shopper_id: input.shopperId,
          merchant_id: input.merchantId,
          kind: 'receipt',
          title: `Paid ${money(input.amount, input.currency)} at ${input.merchantName}`,
          body: discount > 0 ? `A coupon saved you ${money(discount, input.currency)}.` : '',
          payment_id: input.paymentId,
          amount: input.amount,
          discount,
          currency: input.currency,
          created_at: input.at,
        }),
      );
    },

    inbox,

    async markRead(shopperId: string, itemId: string): Promise<void> {
      // Marking an item read twice is fine; an item of someone else's looks missing.
      if (!(await repo.markRead(shopperId, itemId, clock.now().getTime())) && !(await repo.hasInboxItem(shopperId, itemId)))
        throw new DomainError('not_found', 'inbox_item_not_found', 'No such inbox item.');
    },

    /** Coupons the shopper holds at every merchant, usable now, for the portal. */
    async shopperCoupons(shopperId: string, now = clock.now().getTime()): Promise<InboxItem[]> {
      const out: InboxItem[] = [];
      let cursor: string | undefined;
      for (;;) {
        const page = await inbox(shopperId, cursor === undefined ? { limit: MAX_INBOX_PAGE } : { cursor, limit: MAX_INBOX_PAGE }, now);
        for (const i of page.items) if (i.kind === 'coupon' && i.coupon?.status === 'issued') out.push(i);
        if (page.nextCursor === null) return out;
        cursor = page.nextCursor;
      }
    },

    /**
     * The shopper deleted their account: their inbox and mutes go, and the coupons of the
     * memberships that ended (from members.forgetShopper) are voided.
     */
    async forgetShopper(shopperId: string, ended: readonly { merchantId: string; memberId: string }[]): Promise<void> {
      for (const e of ended) await repo.voidUnused(e.merchantId, e.memberId);
      await repo.deleteShopperData(shopperId);
    },

    async mute(shopperId: string, merchantId: string): Promise<void> {
      await repo.mute(shopperId, merchantId, clock.now().getTime());
    },

    async unmute(shopperId: string, merchantId: string): Promise<void> {
      await repo.unmute(shopperId, merchantId);
    },

    async mutes(shopperId: string): Promise<{ merchantId: string; at: number }[]> {
      return (await repo.mutes(shopperId)).map((m) => ({ merchantId: m.merchant_id, at: m.at }));
    },
  };
}
