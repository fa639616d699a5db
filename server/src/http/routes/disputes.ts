/**
 * Disputes ("This wasn't me"): the shopper opens one from a receipt in the portal (session
 * cookie, under /v1/shopper); the merchant lists, reads, refunds and closes them with its API key
 * or the console (payments scopes); a test key opens test disputes on test payments.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DISPUTE_STATUSES, disputeResource, type Dispute } from '../../disputes/index.ts';
import { DomainError } from '../../platform/index.ts';
import { requireAuth } from '../auth.ts';
import { amountSchema, idParams, listBody, listQuery, pageArgs } from '../schemas.ts';
import type { AppServices } from '../types.ts';
import { currentShopper } from './shoppers.ts';

const TAG = ['Disputes'];

/** Refund and close take optional fields only: a POST without a body is the same as `{}`. */
const emptyBody = async (request: FastifyRequest): Promise<void> => {
  request.body ??= {};
};

/** The shopper's view: what she needs to follow her dispute. */
function shopperDisputeResource(d: Dispute): Record<string, unknown> {
  return {
    id: d.id,
    object: 'dispute',
    payment_intent: d.paymentIntentId,
    status: d.status,
    payment_method: d.method,
    amount: d.amount,
    currency: d.currency,
    face_pay_frozen: d.events.some((e) => e.type === 'face_pay_frozen'),
    created: d.createdAt,
    updated: d.updatedAt,
  };
}

const paymentBody = {
  type: 'object',
  additionalProperties: false,
  required: ['payment_intent'],
  properties: {
    payment_intent: { type: 'string', minLength: 1, maxLength: 128, description: 'The disputed payment.' },
  },
} as const;

export function registerDisputeRoutes(app: FastifyInstance, services: AppServices): void {
  const disputes = services.disputes;
  if (disputes === undefined) return;

  app.get('/v1/disputes', {
    config: { auth: 'payments:read' },
    schema: {
      tags: TAG,
      summary: 'List disputes, newest first',
      description: 'Disputes of the key\'s mode only: a test key sees test disputes, a live key (or the console) live ones.',
      querystring: listQuery({
        status: { type: 'string', enum: [...DISPUTE_STATUSES] },
        payment_intent: { type: 'string', minLength: 1, maxLength: 128, description: 'The disputes of this payment only.' },
      }),
    },
    handler: async (request) => {
      const auth = requireAuth(request);
      const q = request.query as { status?: string; payment_intent?: string };
      return listBody(await disputes.list(auth.merchantId, { ...pageArgs(request.query), mode: auth.mode, status: q.status, paymentIntentId: q.payment_intent }), disputeResource);
    },
  });

  app.get('/v1/disputes/:id', {
    config: { auth: 'payments:read' },
    schema: { tags: TAG, summary: 'Retrieve a dispute with its history', params: idParams },
    handler: async (request) => {
      const auth = requireAuth(request);
      return disputeResource(await disputes.get(auth.merchantId, (request.params as { id: string }).id, { mode: auth.mode }));
    },
  });

  app.post('/v1/disputes/:id/refund', {
    config: { auth: 'payments:write' },
    preValidation: emptyBody,
    schema: {
      tags: TAG,
      summary: 'Refund the disputed payment and mark the dispute refunded',
      description:
        'A refund like POST /v1/refunds (same ledger rules, fee given back pro rata, a cashier\'s refund limit), of everything not yet ' +
        'refunded unless `amount` is given. Idempotent: a refunded dispute answers as it is, and the refund is made once. Sends `dispute.updated`. ' +
        'Errors: 404 `dispute_not_found`, 409 `dispute_closed`, 409 `refund_exceeds_captured`, 403 `refund_above_staff_limit`.',
      params: idParams,
      body: { type: 'object', additionalProperties: false, properties: { amount: { ...amountSchema, description: 'Defaults to everything not yet refunded.' } } },
    },
    handler: async (request) => {
      const auth = requireAuth(request);
      const b = (request.body ?? {}) as { amount?: number };
      const d = await disputes.refund(auth.merchantId, (request.params as { id: string }).id, { mode: auth.mode, amount: b.amount, staffRefundLimit: auth.staff?.refundLimit });
      return disputeResource(d);
    },
  });

  app.post('/v1/disputes/:id/close', {
    config: { auth: 'payments:write' },
    preValidation: emptyBody,
    schema: {
      tags: TAG,
      summary: 'Close a dispute without a refund (the shopper is told, with your note)',
      description: 'Sends `dispute.updated`. Closing a closed dispute answers it as it is; a refunded one is 409 `dispute_refunded`.',
      params: idParams,
      body: { type: 'object', additionalProperties: false, properties: { note: { type: 'string', minLength: 1, maxLength: 500 } } },
    },
    handler: async (request) => {
      const auth = requireAuth(request);
      const b = (request.body ?? {}) as { note?: string };
      return disputeResource(await disputes.close(auth.merchantId, (request.params as { id: string }).id, { mode: auth.mode, note: b.note }));
    },
  });

  app.post('/v1/test_helpers/disputes', {
    config: { auth: 'payments:write' },
    schema: {
      tags: ['Test helpers'],
      summary: "Open a dispute on a test payment, as its test shopper would (test mode only)",
      description: 'To try your `dispute.created` handling. Idempotent per payment while its dispute is open or refunded.',
      body: paymentBody,
    },
    handler: async (request, reply) => {
      const auth = requireAuth(request);
      if (auth.mode !== 'test') throw new DomainError('forbidden', 'test_mode_only', 'this needs a test-mode API key (sk_test_...)');
      const { dispute, created } = await disputes.openForTest(auth.merchantId, (request.body as { payment_intent: string }).payment_intent);
      return reply.code(created ? 201 : 200).send(disputeResource(dispute));
    },
  });

  app.post('/v1/shopper/disputes', {
    schema: {
      tags: ['Shopper portal'],
      summary: "\"This wasn't me\": dispute one of your payments",
      description:
        'For a face payment, face pay is frozen at once (switch it on again in settings); a pay-code payment is disputed without it. ' +
        'The merchant is told. 201 when opened, 200 with the same dispute while one is open or refunded. ' +
        'Errors: 404 `payment_intent_not_found` (also another shopper\'s payment), 409 `payment_not_disputable`.',
      body: paymentBody,
    },
    handler: async (request, reply) => {
      const s = await currentShopper(services.shoppers, request);
      const { dispute, created } = await disputes.openByShopper(s.id, (request.body as { payment_intent: string }).payment_intent);
      return reply.code(created ? 201 : 200).send(shopperDisputeResource(dispute));
    },
  });

  app.get('/v1/shopper/disputes', {
    schema: { tags: ['Shopper portal'], summary: 'Your disputes, newest first' },
    handler: async (request) => {
      const s = await currentShopper(services.shoppers, request);
      return { object: 'list', data: (await disputes.listForShopper(s.id)).map(shopperDisputeResource), has_more: false };
    },
  });
}

export { shopperDisputeResource };
