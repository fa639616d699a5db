/**
 * The card rail's two routes, present only when an acquirer adapter is wired in (none ships):
 * the shopper starts paying a pending top-up by card, and the acquirer's signed webhook confirms
 * it. The webhook's body is taken raw: its signature covers the bytes as sent, not their parse.
 */
import type { FastifyInstance } from 'fastify';
import { DomainError } from '../../platform/index.ts';
import type { AppServices } from '../types.ts';
import { currentShopper } from './shoppers.ts';

export const CARD_SIGNATURE_HEADER = 'facepay-card-signature';

export function registerCardRoutes(app: FastifyInstance, services: AppServices): void {
  const { cardRail, fundingService } = services;
  if (!cardRail || !fundingService) return;

  app.post('/v1/shopper/topups/:id/card', {
    schema: {
      tags: ['Shopper portal'],
      summary: "Pay a pending top-up by card: answers the acquirer's page (the wallet grows when the acquirer confirms)",
      params: { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } },
    },
    handler: async (request) => {
      const s = await currentShopper(services.shoppers, request);
      const id = (request.params as { id: string }).id;
      const i = await fundingService.getIntent(id);
      // Another shopper's top-up is not found, exactly as one that does not exist.
      if (i.shopperId !== s.id) throw new DomainError('not_found', 'funding_intent_not_found', `no funding intent ${id}`);
      const r = await cardRail.start(i.id);
      return { object: 'card_payment', top_up: i.id, payment_ref: r.paymentRef, redirect_url: r.redirectUrl };
    },
  });

  void app.register(async (raw) => {
    raw.removeContentTypeParser('application/json');
    raw.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    raw.post('/v1/funding/card/webhook', {
      schema: { tags: ['Funding rails'], summary: `The card acquirer's signed webhook (${CARD_SIGNATURE_HEADER}: t=...,v1=HMAC-SHA256 of "<t>.<raw body>")` },
      handler: async (request) => {
        const header = request.headers[CARD_SIGNATURE_HEADER];
        const body = request.body;
        if (!Buffer.isBuffer(body)) throw new DomainError('invalid', 'card_event_invalid', 'the webhook body is JSON');
        const r = await cardRail.handleWebhook(body, typeof header === 'string' ? header : undefined);
        return { received: true, event: r.event.id, top_up: r.intent && { id: r.intent.id, status: r.intent.status } };
      },
    });
  });
}
