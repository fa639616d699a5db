/**
 * The shopper's side of memberships and marketing in the portal (session cookie, like the rest of
 * /v1/shopper): every membership and what it shares, leaving one, the inbox (receipts, coupons,
 * messages), the coupons held, and muting a merchant.
 */
import type { FastifyInstance } from 'fastify';
import { describeReward, PLATFORM_SENDER, type InboxItem } from '../../marketing/index.ts';
import { MEMBERSHIP_CONSENT, type MemberFields, type Membership } from '../../members/index.ts';
import { MEMBER_FIELDS } from '../../members/index.ts';
import { DomainError } from '../../platform/index.ts';
import { snakeKeys } from '../schemas.ts';
import type { AppServices } from '../types.ts';
import { currentShopper } from './shoppers.ts';

const TAG = ['Shopper portal'];
const merchantParams = { type: 'object', required: ['merchant_id'], properties: { merchant_id: { type: 'string', minLength: 1, maxLength: 64 } } } as const;

function inboxResource(i: InboxItem, merchantName: string): Record<string, unknown> {
  return {
    id: i.id,
    object: 'inbox_item',
    kind: i.kind,
    merchant: i.merchantId,
    merchant_name: merchantName,
    from_platform: i.merchantId === PLATFORM_SENDER,
    title: i.title,
    body: i.body,
    created: i.createdAt,
    read_at: i.readAt,
    payment: i.payment && { payment_intent: i.payment.paymentId, amount: i.payment.amount, discount: i.payment.discount, currency: i.payment.currency },
    coupon: i.coupon && {
      id: i.coupon.couponId,
      reward: snakeKeys(i.coupon.reward),
      description: describeReward(i.coupon.reward, i.coupon.currency),
      currency: i.coupon.currency,
      valid_to: i.coupon.validTo,
      status: i.coupon.status,
    },
  };
}

export function registerShopperCrmRoutes(app: FastifyInstance, services: AppServices): void {
  const { shoppers, members, marketing, merchants } = services;

  /** Names, not ids: a shopper knows shops by name. */
  const merchantName = (id: string): Promise<string> => merchants.getMerchant(id).then((m) => m.name, () => '');

  /**
   * Inbox items as resources, each merchant's name looked up once per answer. A receipt also says
   * how it was paid and its dispute, if any, so the portal can offer "This wasn't me" on it.
   */
  async function inboxResources(items: readonly InboxItem[], shopperId?: string): Promise<Record<string, unknown>[]> {
    const names = new Map<string, Promise<string>>();
    const paymentIds = items.flatMap((i) => (i.kind === 'receipt' && i.payment ? [i.payment.paymentId] : []));
    const facts = shopperId !== undefined && services.disputes && paymentIds.length > 0 ? await services.disputes.paymentFacts(shopperId, paymentIds) : undefined;
    return Promise.all(
      items.map(async (i) => {
        let n = names.get(i.merchantId);
        if (n === undefined) names.set(i.merchantId, (n = i.merchantId === PLATFORM_SENDER ? Promise.resolve('Facepay') : merchantName(i.merchantId)));
        const r = inboxResource(i, await n);
        const f = i.payment ? facts?.get(i.payment.paymentId) : undefined;
        if (f && r.payment) {
          const d = f.dispute;
          r.payment = { ...(r.payment as object), method: f.method, dispute: d && { id: d.id, status: d.status } };
        }
        return r;
      }),
    );
  }

  async function membershipResource(m: Membership): Promise<Record<string, unknown>> {
    const asked = await members.programme(m.merchantId).then((p) => p.fields, () => []);
    return {
      object: 'membership',
      merchant: m.merchantId,
      merchant_name: await merchantName(m.merchantId),
      member_id: m.memberId,
      programme: m.programmeName,
      benefits: m.benefits,
      joined_at: m.joinedAt,
      shared_fields: m.sharedFields,
      asked_fields: asked,
      consent: { version: MEMBERSHIP_CONSENT.version, text: MEMBERSHIP_CONSENT.text(m.programmeName, asked) },
    };
  }

  app.get('/v1/shopper/memberships', {
    schema: { tags: TAG, summary: 'Every membership, with what each merchant sees of you' },
    handler: async (request) => {
      const s = await currentShopper(shoppers, request);
      const list = await members.memberships(s.id);
      return { object: 'list', data: await Promise.all(list.map(membershipResource)), has_more: false };
    },
  });

  app.get('/v1/shopper/memberships/:merchant_id/consents', {
    schema: { tags: TAG, summary: 'The consent records of a membership: fields, text version, time, terminal', params: merchantParams },
    handler: async (request) => {
      const s = await currentShopper(shoppers, request);
      const rows = await members.consents(s.id, (request.params as { merchant_id: string }).merchant_id);
      return {
        object: 'list',
        data: rows.map((c) => ({ fields: c.fields, text_version: c.textVersion, terminal: c.terminalId, accepted_at: c.acceptedAt, withdrawn_at: c.withdrawnAt })),
        has_more: false,
      };
    },
  });

  app.patch('/v1/shopper/memberships/:merchant_id', {
    schema: {
      tags: TAG,
      summary: 'Change what a merchant sees: the fields shared, under the current consent text',
      description:
        'fields is either a list of field names (the values come from your account: name, phone, email) or an object of values ' +
        '(also birthday YYYY-MM-DD and gender). Fields left out are no longer shared.',
      params: merchantParams,
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['fields', 'consent_version'],
        properties: {
          fields: {
            anyOf: [
              { type: 'array', maxItems: MEMBER_FIELDS.length, items: { type: 'string', maxLength: 20 } },
              { type: 'object', maxProperties: MEMBER_FIELDS.length, additionalProperties: { type: 'string', maxLength: 254 } },
            ],
          },
          consent_version: { type: 'string', minLength: 1, maxLength: 40 },
        },
      },
    },
    handler: async (request) => {
      const s = await currentShopper(shoppers, request);
      const merchantId = (request.params as { merchant_id: string }).merchant_id;
      const b = request.body as { fields: string[] | Record<string, string>; consent_version: string };
      let values: MemberFields;
      if (Array.isArray(b.fields)) {
        const own: Record<string, string | null> = { name: s.name, phone: s.phone, email: s.email };
        values = {};
        for (const f of b.fields) {
          const v = own[f];
          if (v === undefined) throw new DomainError('invalid', 'field_not_in_account', `Your account holds no ${f}: send its value.`, { field: f });
          if (v !== null) (values as Record<string, string>)[f] = v;
        }
      } else {
        values = b.fields as MemberFields;
      }
      return membershipResource(await members.updateSharing(s.id, merchantId, values, b.consent_version));
    },
  });

  app.delete('/v1/shopper/memberships/:merchant_id', {
    schema: {
      tags: TAG,
      summary: 'Leave a membership: the merchant loses the shared fields at once, and unused coupons end',
      params: merchantParams,
    },
    handler: async (request) => {
      const s = await currentShopper(shoppers, request);
      const merchantId = (request.params as { merchant_id: string }).merchant_id;
      const memberId = await members.memberIdFor(merchantId, s.id);
      await members.leave(s.id, merchantId);
      if (memberId !== null) await marketing.onMemberLeft(merchantId, memberId);
      return { object: 'membership', merchant: merchantId, left: true };
    },
  });

  app.get('/v1/shopper/inbox', {
    schema: {
      tags: TAG,
      summary: 'Receipts, coupons and messages, newest first',
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          limit: { type: 'string', pattern: '^(100|[1-9][0-9]?)$', description: 'Page size, 1 to 100 (default 30).' },
          cursor: { type: 'string', maxLength: 200, description: 'The next_cursor of the previous page.' },
        },
      },
    },
    handler: async (request) => {
      const s = await currentShopper(shoppers, request);
      const q = request.query as { limit?: string; cursor?: string };
      const page = await marketing.inbox(s.id, { ...(q.limit !== undefined ? { limit: Number(q.limit) } : {}), ...(q.cursor !== undefined ? { cursor: q.cursor } : {}) });
      return { object: 'list', data: await inboxResources(page.items, s.id), has_more: page.nextCursor !== null, next_cursor: page.nextCursor };
    },
  });

  app.post('/v1/shopper/inbox/:id/read', {
    schema: {
      tags: TAG,
      summary: 'Mark an inbox item read',
      params: { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 128 } } },
    },
    handler: async (request) => {
      const s = await currentShopper(shoppers, request);
      const id = (request.params as { id: string }).id;
      await marketing.markRead(s.id, id);
      return { id, object: 'inbox_item', read: true };
    },
  });

  app.get('/v1/shopper/coupons', {
    schema: { tags: TAG, summary: 'The coupons you hold, usable now, at every merchant' },
    handler: async (request) => {
      const s = await currentShopper(shoppers, request);
      return { object: 'list', data: await inboxResources(await marketing.shopperCoupons(s.id)), has_more: false };
    },
  });

  app.get('/v1/shopper/mutes', {
    schema: { tags: TAG, summary: 'Merchants you muted' },
    handler: async (request) => {
      const s = await currentShopper(shoppers, request);
      const mutes = await marketing.mutes(s.id);
      return {
        object: 'list',
        data: await Promise.all(mutes.map(async (m) => ({ merchant: m.merchantId, merchant_name: await merchantName(m.merchantId), muted_at: m.at }))),
        has_more: false,
      };
    },
  });

  app.put('/v1/shopper/mutes/:merchant_id', {
    schema: { tags: TAG, summary: "Mute a merchant: no messages, and its own channels are told not to notify you", params: merchantParams },
    handler: async (request) => {
      const s = await currentShopper(shoppers, request);
      const merchantId = (request.params as { merchant_id: string }).merchant_id;
      await merchants.getMerchant(merchantId);
      await marketing.mute(s.id, merchantId);
      return { object: 'mute', merchant: merchantId, muted: true };
    },
  });

  app.delete('/v1/shopper/mutes/:merchant_id', {
    schema: { tags: TAG, summary: 'Unmute a merchant', params: merchantParams },
    handler: async (request) => {
      const s = await currentShopper(shoppers, request);
      const merchantId = (request.params as { merchant_id: string }).merchant_id;
      await marketing.unmute(s.id, merchantId);
      return { object: 'mute', merchant: merchantId, muted: false };
    },
  });
}
