import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { INTENT_STATUSES, intentResource, refundResource, type IntentFilter, type IntentStatus, type PaymentIntent } from '../../payments/index.ts';
import type { PaymentView, PaymentViews } from '../../payment-views/index.ts';
import { DomainError } from '../../platform/index.ts';
import { requireAuth } from '../auth.ts';
import { amountSchema, currencySchema, idParams, listBody, listQuery, metadataSchema, pageArgs } from '../schemas.ts';
import type { AppServices } from '../types.ts';
import { eventResource } from './webhooks.ts';

/**
 * Only test keys may stand in for the terminal's face flow, and only for test shoppers (`test_...`).
 * A test shopper is the merchant's own: its wallet is reached by this merchant's test keys alone.
 */
export function assertTestShopper(mode: string, shopper: string): void {
  if (mode !== 'test') throw new DomainError('forbidden', 'test_mode_only', 'this needs a test-mode API key (sk_test_...)');
  if (!shopper.startsWith('test_')) {
    throw new DomainError('forbidden', 'test_shopper_required', 'test helpers act only on test shoppers, whose ids start with test_');
  }
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/;

const instantSchema = {
  type: 'string',
  maxLength: 40,
  description: 'Epoch milliseconds, an ISO 8601 date (midnight UTC) or an ISO 8601 date-time with Z or an offset.',
} as const;

/** Date.parse rolls 2026-02-31 over into March; a date that does not exist is refused instead. */
function realDay(v: string): boolean {
  const [y, m, d] = v.slice(0, 10).split('-').map(Number) as [number, number, number];
  const day = new Date(Date.UTC(y, m - 1, d));
  return day.getUTCMonth() === m - 1 && day.getUTCDate() === d;
}

/** A query's instant: digits are epoch ms; otherwise an ISO date or a date-time that says its offset (never the server's zone). */
function instant(v: string | undefined, param: string): number | undefined {
  if (v === undefined) return undefined;
  const ms = /^\d{1,15}$/.test(v) ? Number(v) : ISO_INSTANT.test(v) && realDay(v) ? Date.parse(v) : NaN;
  if (!Number.isSafeInteger(ms) || ms < 0) {
    throw new DomainError('invalid', `${param}_invalid`, `${param} must be epoch milliseconds or an ISO 8601 date or date-time with an offset`);
  }
  return ms;
}

/** The list's filters, shared by the CSV export. */
const filterProperties = {
  status: { type: 'string', enum: [...INTENT_STATUSES] },
  order_reference: { type: 'string', minLength: 1, maxLength: 200, description: 'Exactly this order number.' },
  order_reference_prefix: { type: 'string', minLength: 1, maxLength: 200, description: 'Order numbers that start with this (case-sensitive).' },
  created_from: instantSchema,
  created_to: instantSchema,
  amount_min: { type: 'string', pattern: '^[0-9]{1,15}$', description: 'Minor units, inclusive.' },
  amount_max: { type: 'string', pattern: '^[0-9]{1,15}$', description: 'Minor units, inclusive.' },
  store: { type: 'string', minLength: 1, maxLength: 128 },
  terminal: { type: 'string', minLength: 1, maxLength: 64 },
} as const;

function intentFilter(q: Record<string, string | undefined>): IntentFilter {
  const num = (v: string | undefined): number | undefined => (v === undefined ? undefined : Number(v));
  return {
    storeId: q.store,
    terminalId: q.terminal,
    status: q.status as IntentStatus | undefined,
    orderReference: q.order_reference,
    orderReferencePrefix: q.order_reference_prefix,
    createdFrom: instant(q.created_from, 'created_from'),
    createdTo: instant(q.created_to, 'created_to'),
    amountMin: num(q.amount_min),
    amountMax: num(q.amount_max),
  };
}

/** A payment intent as the merchant reads it: the resource, with what other modules know of it. */
function viewResource(v: PaymentView): Record<string, unknown> {
  return {
    ...intentResource(v.intent),
    terminal_name: v.terminalName,
    member: v.memberId,
    coupon_campaign: v.couponCampaign,
  };
}

async function describe(views: PaymentViews | undefined, merchantId: string, intents: PaymentIntent[]): Promise<Record<string, unknown>[]> {
  if (views === undefined) return intents.map(intentResource);
  return (await views.describe(merchantId, intents)).map(viewResource);
}

const VIEW_FIELDS =
  '`terminal_name` is the terminal\'s name (null without a terminal), `member` the member id of your programme the payment was ' +
  'recorded under when the payer is a member (null otherwise, and until the payment has settled in the CRM), and `coupon_campaign` ' +
  '(`{id, name}`) the campaign whose coupon paid the discount.';

const shopperSchema = { type: 'string', pattern: '^test_[A-Za-z0-9_\\-.]{1,59}$', description: 'A test shopper id (test_...).' } as const;

export function registerPaymentRoutes(app: FastifyInstance, { payments, webhooks, paymentViews, clock }: AppServices): void {
  app.post('/v1/payment_intents', {
    config: { auth: 'payments:write' },
    schema: {
      tags: ['Payment intents'],
      summary: 'Create a payment intent',
      description:
        'The till creates an intent for an amount at a store; the terminal then shows it and the shopper pays by face. ' +
        'With a test key, `confirm: true` and a test `shopper` pay it at once (for tests and benchmarks).',
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['amount', 'currency', 'store'],
        properties: {
          amount: amountSchema,
          currency: currencySchema,
          store: { type: 'string', minLength: 1, maxLength: 128, description: 'Id of one of your stores.' },
          terminal: { type: 'string', minLength: 1, maxLength: 64, description: 'The terminal that should show it.' },
          order_reference: { type: 'string', minLength: 1, maxLength: 200, description: 'Your order number.' },
          description: { type: 'string', minLength: 1, maxLength: 500 },
          metadata: metadataSchema,
          confirm: { type: 'boolean', description: 'Test mode: pay it at once for `shopper`.' },
          shopper: shopperSchema,
        },
      },
    },
    handler: async (request, reply) => {
      const auth = requireAuth(request);
      const b = request.body as {
        amount: number;
        currency: string;
        store: string;
        terminal?: string;
        order_reference?: string;
        description?: string;
        metadata?: Record<string, string>;
        confirm?: boolean;
        shopper?: string;
      };
      if (b.confirm && b.shopper === undefined) throw new DomainError('invalid', 'parameter_missing', 'confirm needs a shopper');
      if (b.shopper !== undefined) assertTestShopper(auth.mode, b.shopper);
      const key = request.idempotency?.key;
      let pi = await payments.createIntent(
        auth.merchantId,
        { amount: b.amount, currency: b.currency, storeId: b.store, terminalId: b.terminal, orderReference: b.order_reference, description: b.description, metadata: b.metadata },
        { idempotencyKey: key, mode: auth.mode },
      );
      if (b.confirm && b.shopper !== undefined) {
        pi = await payments.confirmWithShopper(pi.id, b.shopper, { merchantId: auth.merchantId, mode: auth.mode, idempotencyKey: key });
      }
      return reply.code(200).send(intentResource(pi));
    },
  });

  app.get('/v1/payment_intents', {
    config: { auth: 'payments:read' },
    schema: {
      tags: ['Payment intents'],
      summary: 'List and search payment intents, newest first',
      description:
        'Every filter given narrows the list; pages follow `next_cursor` with the same filters. Times are epoch milliseconds or ISO 8601 ' +
        '(`2026-11-01`, midnight UTC, or a date-time with its offset, `2026-11-01T08:00:00+08:00`); `created_from` is inclusive and ' +
        '`created_to` exclusive. Amounts are on `amount`, before any coupon. Errors (400): `parameter_invalid` (a value of the wrong form, ' +
        'with `param`), `created_from_invalid`, `created_to_invalid`, `created_range_invalid`, `amount_range_invalid`. ' + VIEW_FIELDS,
      querystring: listQuery(filterProperties),
    },
    handler: async (request) => {
      const auth = requireAuth(request);
      const page = await payments.listIntents(auth.merchantId, {
        ...pageArgs(request.query),
        mode: auth.mode,
        ...intentFilter(request.query as Record<string, string | undefined>),
      });
      return { ...listBody(page, (x) => x), data: await describe(paymentViews, auth.merchantId, page.data) };
    },
  });

  app.get('/v1/payment_intents/export.csv', {
    config: { auth: 'payments:export' },
    schema: {
      tags: ['Payment intents'],
      summary: 'The payments that match, newest first, as CSV',
      description:
        'The filters and errors of the list (every match, no pages). Needs the payments:export scope (console owners and managers, ' +
        'not cashiers). Each amount comes twice: as a decimal in the payment\'s `currency` (`amount`, `discount`, `amount_received`, ' +
        '`amount_refunded`, `platform_fee`) and in minor units (the same names ending in `_minor`). Cells that a spreadsheet would ' +
        'read as a formula start with an apostrophe. The file is sent as it is read, a page of payments at a time.',
      querystring: { type: 'object', additionalProperties: false, properties: filterProperties },
    },
    handler: async (request, reply) => {
      const auth = requireAuth(request);
      if (paymentViews === undefined) throw new DomainError('unavailable', 'export_unavailable', 'The payments export is not available on this server.');
      const lines = await paymentViews.exportCsv(auth.merchantId, { mode: auth.mode, ...intentFilter(request.query as Record<string, string | undefined>) });
      const day = new Date(clock.now().getTime()).toISOString().slice(0, 10);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="payments-${day}.csv"`)
        .header('cache-control', 'no-store')
        .send(Readable.from(lines));
    },
  });

  app.get('/v1/payment_intents/:id', {
    config: { auth: 'payments:read' },
    schema: {
      tags: ['Payment intents'],
      summary: 'Retrieve a payment intent',
      description:
        'A member may pay with a coupon: `discount` is what it took off `amount`, `coupon` its id, and `amount_received` what the shopper ' +
        'paid (amount - discount). The platform fee is on amount_received, and refunds never exceed it. `payment_method` is how the ' +
        'shopper was identified, recorded when the payment succeeded: `face`, `face_digits` (the face and the last digits of their ' +
        'phone), `face_pin` (the face and their PIN) or `pay_code` (a one-time code, no face); null for payments confirmed by the test helpers. ' +
        VIEW_FIELDS,
      params: idParams,
    },
    handler: async (request) => {
      const auth = requireAuth(request);
      const pi = await payments.getIntent(auth.merchantId, (request.params as { id: string }).id, { mode: auth.mode });
      return (await describe(paymentViews, auth.merchantId, [pi]))[0];
    },
  });

  app.get('/v1/payment_intents/:id/events', {
    config: { auth: 'payments:read' },
    schema: { tags: ['Payment intents'], summary: "A payment intent's event log, newest first", params: idParams, querystring: listQuery() },
    handler: async (request) => {
      const auth = requireAuth(request);
      const id = (request.params as { id: string }).id;
      await payments.getIntent(auth.merchantId, id, { mode: auth.mode });
      return listBody(await webhooks.listEvents(auth.merchantId, { ...pageArgs(request.query), objectId: id, mode: auth.mode }), eventResource);
    },
  });

  app.post('/v1/payment_intents/:id/cancel', {
    config: { auth: 'payments:write' },
    schema: { tags: ['Payment intents'], summary: 'Cancel a payment intent that has not been paid', params: idParams },
    handler: async (request) => {
      const auth = requireAuth(request);
      return intentResource(await payments.cancel(auth.merchantId, (request.params as { id: string }).id, { mode: auth.mode }));
    },
  });

  app.post('/v1/payment_intents/:id/confirm', {
    config: { auth: 'payments:write' },
    schema: {
      tags: ['Test helpers'],
      summary: 'Pay an intent as a test shopper (test mode only)',
      description: 'In live mode only the terminal confirms, after the face match and the shopper\'s tap.',
      params: idParams,
      body: { type: 'object', additionalProperties: false, required: ['shopper'], properties: { shopper: shopperSchema } },
    },
    handler: async (request) => {
      const auth = requireAuth(request);
      const { shopper } = request.body as { shopper: string };
      assertTestShopper(auth.mode, shopper);
      const pi = await payments.confirmWithShopper((request.params as { id: string }).id, shopper, {
        merchantId: auth.merchantId,
        mode: auth.mode,
        idempotencyKey: request.idempotency?.key,
      });
      return intentResource(pi);
    },
  });

  app.post('/v1/refunds', {
    config: { auth: 'payments:write' },
    schema: {
      tags: ['Refunds'],
      summary: 'Refund a payment, in full or in part',
      description: 'Refunds never exceed what was paid. The platform fee is given back pro rata (rounded down on the running total).',
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['payment_intent'],
        properties: {
          payment_intent: { type: 'string', minLength: 1, maxLength: 128 },
          amount: { ...amountSchema, description: 'Defaults to everything not yet refunded.' },
          reason: { type: 'string', minLength: 1, maxLength: 200 },
          metadata: metadataSchema,
        },
      },
    },
    handler: async (request) => {
      const auth = requireAuth(request);
      const b = request.body as { payment_intent: string; amount?: number; reason?: string; metadata?: Record<string, string> };
      const r = await payments.createRefund(
        auth.merchantId,
        { paymentIntentId: b.payment_intent, amount: b.amount, reason: b.reason, metadata: b.metadata },
        { idempotencyKey: request.idempotency?.key, mode: auth.mode, staffRefundLimit: auth.staff?.refundLimit },
      );
      return refundResource(r);
    },
  });

  app.get('/v1/refunds', {
    config: { auth: 'payments:read' },
    schema: { tags: ['Refunds'], summary: 'List refunds, newest first', querystring: listQuery({ payment_intent: { type: 'string', maxLength: 128 } }) },
    handler: async (request) => {
      const auth = requireAuth(request);
      const q = request.query as { payment_intent?: string };
      return listBody(await payments.listRefunds(auth.merchantId, { ...pageArgs(request.query), mode: auth.mode, paymentIntentId: q.payment_intent }), refundResource);
    },
  });

  app.get('/v1/refunds/:id', {
    config: { auth: 'payments:read' },
    schema: { tags: ['Refunds'], summary: 'Retrieve a refund', params: idParams },
    handler: async (request) => {
      const auth = requireAuth(request);
      return refundResource(await payments.getRefund(auth.merchantId, (request.params as { id: string }).id, { mode: auth.mode }));
    },
  });

  app.post('/v1/test_helpers/top_ups', {
    config: { auth: 'payments:write' },
    schema: {
      tags: ['Test helpers'],
      summary: "Fund a test shopper's wallet (test mode only)",
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['shopper', 'amount', 'currency'],
        properties: { shopper: shopperSchema, amount: amountSchema, currency: currencySchema },
      },
    },
    handler: async (request) => {
      const auth = requireAuth(request);
      const b = request.body as { shopper: string; amount: number; currency: string };
      assertTestShopper(auth.mode, b.shopper);
      const currency = b.currency.toLowerCase();
      // With an Idempotency-Key the same key funds once even past the stored response; without one each call is new.
      const unique = request.idempotency ? createHash('sha256').update(request.idempotency.key).digest('hex').slice(0, 32) : randomUUID();
      const t = await payments.testTopUp(auth.merchantId, b.shopper, b.amount, currency, unique);
      const balance = await payments.testWalletBalance(auth.merchantId, b.shopper, currency);
      return { object: 'top_up', id: t.id, shopper: b.shopper, amount: t.amount, currency, balance };
    },
  });

  app.get('/v1/test_helpers/wallets/:shopper', {
    config: { auth: 'payments:read' },
    schema: {
      tags: ['Test helpers'],
      summary: "A test shopper's wallet balance (test mode only)",
      params: { type: 'object', required: ['shopper'], properties: { shopper: shopperSchema } },
      querystring: { type: 'object', additionalProperties: false, required: ['currency'], properties: { currency: currencySchema } },
    },
    handler: async (request) => {
      const auth = requireAuth(request);
      const { shopper } = request.params as { shopper: string };
      assertTestShopper(auth.mode, shopper);
      const currency = (request.query as { currency: string }).currency.toLowerCase();
      return { object: 'wallet', shopper, currency, balance: await payments.testWalletBalance(auth.merchantId, shopper, currency) };
    },
  });
}
