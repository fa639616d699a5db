import type { FastifyInstance } from 'fastify';
import type { Delivery, DeliveryAttempt, WebhookEndpoint, WebhookEvent } from '../../merchants/index.ts';
import { requireAuth } from '../auth.ts';
import { idParams, listBody, listQuery, pageArgs } from '../schemas.ts';
import type { AppServices } from '../types.ts';

export const endpointResource = (e: WebhookEndpoint) => ({
  id: e.id,
  object: 'webhook_endpoint',
  url: e.url,
  enabled_events: e.events,
  status: e.disabled ? 'disabled' : 'enabled',
  livemode: e.mode === 'live',
  created: e.createdAt,
});

export const eventResource = (e: WebhookEvent) => ({ id: e.id, object: 'event', livemode: e.mode === 'live', type: e.type, created: e.createdAt, data: { object: e.data } });

export const deliveryResource = (d: Delivery & { attemptLog?: DeliveryAttempt[] }) => ({
  id: d.id,
  object: 'webhook_delivery',
  endpoint: d.endpointId,
  event: d.eventId,
  status: d.status,
  attempts: d.attempts,
  next_attempt_at: d.nextAttemptAt,
  last_status_code: d.lastStatusCode,
  last_error: d.lastError,
  created: d.createdAt,
  updated: d.updatedAt,
  ...(d.attemptLog
    ? { attempt_log: d.attemptLog.map((a) => ({ attempted_at: a.attemptedAt, status_code: a.statusCode, error: a.error, duration_ms: a.durationMs })) }
    : {}),
});

export function registerWebhookRoutes(app: FastifyInstance, { webhooks }: AppServices): void {
  app.post('/v1/webhook_endpoints', {
    config: { auth: 'webhooks:write' },
    schema: {
      tags: ['Webhooks'],
      summary: 'Register a webhook endpoint (its signing secret is in this answer only)',
      description:
        'Each delivery is a POST with a `Facepay-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the secret>` header. ' +
        'Failed deliveries are retried with exponential back-off (30 s doubling, 8 attempts); while an endpoint fails, its other deliveries wait with it. ' +
        'The endpoint has the mode of the key that creates it: a test key\'s endpoint receives test events only, a live key\'s live events only.',
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['url'],
        properties: {
          url: { type: 'string', minLength: 1, maxLength: 2000 },
          enabled_events: { type: 'array', minItems: 1, maxItems: 50, items: { type: 'string', maxLength: 100 }, description: 'Event types, or ["*"] (default).' },
        },
      },
    },
    handler: async (request) => {
      const b = request.body as { url: string; enabled_events?: string[] };
      const auth = requireAuth(request);
      const { endpoint, secret } = await webhooks.createEndpoint(auth.merchantId, { url: b.url, mode: auth.mode, ...(b.enabled_events ? { events: b.enabled_events } : {}) });
      return { ...endpointResource(endpoint), secret };
    },
  });

  app.get('/v1/webhook_endpoints', {
    config: { auth: 'webhooks:read' },
    schema: { tags: ['Webhooks'], summary: 'List webhook endpoints', querystring: listQuery() },
    handler: async (request) => {
      const auth = requireAuth(request);
      return listBody(await webhooks.listEndpoints(auth.merchantId, { ...pageArgs(request.query), mode: auth.mode }), endpointResource);
    },
  });

  app.get('/v1/webhook_endpoints/:id', {
    config: { auth: 'webhooks:read' },
    schema: { tags: ['Webhooks'], summary: 'Retrieve a webhook endpoint', params: idParams },
    handler: async (request) => {
      const auth = requireAuth(request);
      return endpointResource(await webhooks.getEndpoint(auth.merchantId, (request.params as { id: string }).id, { mode: auth.mode }));
    },
  });

  app.post('/v1/webhook_endpoints/:id', {
    config: { auth: 'webhooks:write' },
    schema: {
      tags: ['Webhooks'],
      summary: 'Enable or disable a webhook endpoint',
      params: idParams,
      body: { type: 'object', additionalProperties: false, required: ['disabled'], properties: { disabled: { type: 'boolean' } } },
    },
    handler: async (request) => {
      const { disabled } = request.body as { disabled: boolean };
      const auth = requireAuth(request);
      return endpointResource(await webhooks.setEndpointDisabled(auth.merchantId, (request.params as { id: string }).id, disabled, { mode: auth.mode }));
    },
  });

  app.get('/v1/events', {
    config: { auth: 'webhooks:read' },
    schema: { tags: ['Webhooks'], summary: 'List events, newest first', querystring: listQuery() },
    handler: async (request) => {
      const auth = requireAuth(request);
      return listBody(await webhooks.listEvents(auth.merchantId, { ...pageArgs(request.query), mode: auth.mode }), eventResource);
    },
  });

  app.get('/v1/events/:id', {
    config: { auth: 'webhooks:read' },
    schema: { tags: ['Webhooks'], summary: 'Retrieve an event', params: idParams },
    handler: async (request) => {
      const auth = requireAuth(request);
      return eventResource(await webhooks.getEvent(auth.merchantId, (request.params as { id: string }).id, { mode: auth.mode }));
    },
  });

  app.get('/v1/webhook_deliveries', {
    config: { auth: 'webhooks:read' },
    schema: {
      tags: ['Webhooks'],
      summary: 'The delivery log, newest first',
      querystring: listQuery({ endpoint: { type: 'string', maxLength: 128 }, event: { type: 'string', maxLength: 128 } }),
    },
    handler: async (request) => {
      const q = request.query as { endpoint?: string; event?: string };
      const auth = requireAuth(request);
      const page = await webhooks.listDeliveries(auth.merchantId, {
        ...pageArgs(request.query),
        mode: auth.mode,
        ...(q.endpoint ? { endpointId: q.endpoint } : {}),
        ...(q.event ? { eventId: q.event } : {}),
      });
      return listBody(page, deliveryResource);
    },
  });

  app.get('/v1/webhook_deliveries/:id', {
    config: { auth: 'webhooks:read' },
    schema: { tags: ['Webhooks'], summary: 'Retrieve a delivery with every attempt', params: idParams },
    handler: async (request) => {
      const auth = requireAuth(request);
      return deliveryResource(await webhooks.getDelivery(auth.merchantId, (request.params as { id: string }).id, { mode: auth.mode }));
    },
  });

  app.post('/v1/webhook_deliveries/:id/retry', {
    config: { auth: 'webhooks:write' },
    schema: { tags: ['Webhooks'], summary: 'Send a delivery again now (replay)', params: idParams },
    handler: async (request) => {
      const auth = requireAuth(request);
      return deliveryResource(await webhooks.retryDelivery(auth.merchantId, (request.params as { id: string }).id, { mode: auth.mode }));
    },
  });
}
