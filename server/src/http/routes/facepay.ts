/**
 * The terminal's side of a face payment, under /device/v1 and so signed by the device: the amount
 * (from the till or typed by the cashier), the liveness challenge, the captures, the confirmation,
 * and the pay code as the other way. Captures are decoded in memory and dropped with the request;
 * no answer here holds an image, a template or a shopper id.
 */
import type { FastifyInstance } from 'fastify';
import type { FacePayDecision, TerminalRef } from '../../facepay/index.ts';
import { intentResource } from '../../payments/index.ts';
import { DomainError } from '../../platform/index.ts';
import type { RiskSettings } from '../../risk/index.ts';
import { requireAuth } from '../auth.ts';
import { errorBody } from '../errors.ts';
import { amountSchema, currencySchema, idParams, snakeKeys } from '../schemas.ts';
import type { AppServices } from '../types.ts';
import { requireDevice } from './devices.ts';
import { framesSchema, toFrames, type WireFrames } from './frames.ts';

const TAG = ['Terminal (device protocol)'];
const paymentIdSchema = { type: 'string', pattern: '^[A-Za-z0-9_\\-]{8,64}$', description: 'Made by the terminal; retries reuse it.' } as const;

function decisionBody(d: FacePayDecision): Record<string, unknown> {
  switch (d.outcome) {
    case 'match':
      return {
        outcome: d.outcome,
        attempt_id: d.attemptId,
        masked_name: d.maskedName,
        amount: d.amount,
        amount_due: d.amountDue,
        discount: d.discount,
        currency: d.currency,
        coupon: d.coupon ?? null,
        offers: d.offers,
        membership: d.membership ?? null,
      };
    case 'ambiguous':
      return { outcome: d.outcome, attempt_id: d.attemptId, attempts_left: d.attemptsLeft, reason: d.reason };
    case 'pin':
      return { outcome: d.outcome, attempt_id: d.attemptId, attempts_left: d.attemptsLeft };
    case 'liveness_failed':
    case 'retry':
      return { outcome: d.outcome, code: d.code, message: d.message };
    default:
      return { outcome: d.outcome };
  }
}

const riskSettingsBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    face_alone_limit: { anyOf: [amountSchema, { type: 'null' }] },
    first_visit_face_alone_limit: { anyOf: [amountSchema, { type: 'null' }] },
    face_max_amount: { anyOf: [amountSchema, { type: 'null' }] },
    face_alone_max_false_match: { anyOf: [{ type: 'number', minimum: 0, maximum: 1 }, { type: 'null' }] },
    terminal_failures_for_pin: { anyOf: [{ type: 'integer', minimum: 0, maximum: 1000 }, { type: 'null' }] },
    shopper_failures_for_pin: { anyOf: [{ type: 'integer', minimum: 0, maximum: 1000 }, { type: 'null' }] },
    always_second_factor: { anyOf: [{ type: 'boolean' }, { type: 'null' }] },
  },
} as const;

const riskSettingsResource = (r: { settings: RiskSettings; effective: unknown }) => ({
  object: 'face_pay_risk_settings',
  settings: snakeKeys(r.settings),
  effective: snakeKeys(r.effective),
});

export function registerFacePayRoutes(app: FastifyInstance, services: AppServices): void {
  const { payments, clock, facePay } = services;
  const terminalOf = (device: ReturnType<typeof requireDevice>): TerminalRef => ({
    merchantId: device.merchantId,
    storeId: device.storeId,
    terminalId: device.terminalId,
  });

  app.get('/v1/face_pay/risk_settings', {
    config: { auth: 'payments:read' },
    schema: { tags: ['Face pay'], summary: "The merchant's own tightening of the face-pay risk rules, and the rules in effect" },
    handler: async (request) => riskSettingsResource(await facePay.riskSettings(requireAuth(request).merchantId)),
  });

  app.put('/v1/face_pay/risk_settings', {
    config: { auth: 'payments:write' },
    schema: {
      tags: ['Face pay'],
      summary: 'Tighten the face-pay risk rules for this merchant: a value that would loosen a rule is kept but has no effect',
      body: riskSettingsBody,
    },
    handler: async (request) => {
      const b = request.body as Record<string, number | boolean | null | undefined>;
      const settings: RiskSettings = {
        ...(b.face_alone_limit != null ? { faceAloneLimit: b.face_alone_limit as number } : {}),
        ...(b.first_visit_face_alone_limit != null ? { firstVisitFaceAloneLimit: b.first_visit_face_alone_limit as number } : {}),
        ...(b.face_max_amount != null ? { faceMaxAmount: b.face_max_amount as number } : {}),
        ...(b.face_alone_max_false_match != null ? { faceAloneMaxFalseMatch: b.face_alone_max_false_match as number } : {}),
        ...(b.terminal_failures_for_pin != null ? { terminalFailuresForPin: b.terminal_failures_for_pin as number } : {}),
        ...(b.shopper_failures_for_pin != null ? { shopperFailuresForPin: b.shopper_failures_for_pin as number } : {}),
        ...(b.always_second_factor != null ? { alwaysSecondFactor: b.always_second_factor as boolean } : {}),
      };
      return riskSettingsResource(await facePay.setRiskSettings(requireAuth(request).merchantId, settings));
    },
  });

  app.get('/device/v1/payment_intents/next', {
    schema: { tags: TAG, summary: 'The intent the till created for this terminal, if one is waiting' },
    handler: async (request) => {
      const t = terminalOf(requireDevice(request));
      const pi = await payments.nextForTerminal(t.merchantId, t.terminalId);
      return { intent: pi ? intentResource(pi) : null };
    },
  });

  app.post('/device/v1/payment_intents', {
    schema: {
      tags: TAG,
      summary: 'An amount typed by the cashier; idempotency_key, in the signed body, makes a retry create it once',
      description:
        'The id that makes a retry safe travels in the body, where the signature covers it (docs/device-protocol.md section 4.3). ' +
        'An Idempotency-Key header is accepted only when it equals idempotency_key (400 idempotency_key_mismatch otherwise).',
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['amount', 'currency', 'idempotency_key'],
        properties: { amount: amountSchema, currency: currencySchema, idempotency_key: { ...paymentIdSchema, description: 'Made by the terminal for this amount; retries reuse it.' } },
      },
    },
    handler: async (request) => {
      const t = terminalOf(requireDevice(request));
      const b = request.body as { amount: number; currency: string; idempotency_key: string };
      // The header is not signed: anyone on the path could change it. It may only repeat the signed id.
      const header = request.headers['idempotency-key'];
      if (header !== undefined && header !== b.idempotency_key) {
        throw new DomainError('invalid', 'idempotency_key_mismatch', 'the Idempotency-Key header differs from idempotency_key in the signed body: send the id in the body only');
      }
      const pi = await payments.createIntent(
        t.merchantId,
        { amount: b.amount, currency: b.currency, storeId: t.storeId, terminalId: t.terminalId },
        { idempotencyKey: `${t.terminalId}:${b.idempotency_key}` },
      );
      return intentResource(pi);
    },
  });

  app.post('/device/v1/payment_intents/:id/face_challenges', {
    schema: { tags: TAG, summary: 'Start a face payment: a random liveness challenge', params: idParams },
    handler: async (request) => {
      const t = terminalOf(requireDevice(request));
      const r = await facePay.challenge(t, (request.params as { id: string }).id);
      return { attempt_id: r.attemptId, challenge: { kind: r.challenge.kind, expires_at: r.challenge.expiresAt } };
    },
  });

  app.post('/device/v1/face_attempts/:id/captures', {
    bodyLimit: 8 * 1024 * 1024,
    schema: {
      tags: TAG,
      summary: 'The frames that answer the challenge (again with phone_last4 after an ambiguous answer)',
      params: idParams,
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['frames', 'sent_at'],
        properties: { ...framesSchema, phone_last4: { type: 'string', pattern: '^[0-9]{4}$' } },
      },
    },
    handler: async (request) => {
      const t = terminalOf(requireDevice(request));
      const b = request.body as WireFrames & { phone_last4?: string };
      const frames = toFrames(b, clock.now().getTime());
      const d = await facePay.capture(t, (request.params as { id: string }).id, frames, b.phone_last4 ? { phoneLast4: b.phone_last4 } : {});
      return decisionBody(d);
    },
  });

  app.post('/device/v1/face_attempts/:id/pin', {
    schema: {
      tags: TAG,
      summary: "The shopper's 6-digit face-pay PIN, after a `pin` answer (never stored, logged or answered)",
      params: idParams,
      body: { type: 'object', additionalProperties: false, required: ['pin'], properties: { pin: { type: 'string', pattern: '^[0-9]{6}$' } } },
    },
    handler: async (request) => {
      const t = terminalOf(requireDevice(request));
      return decisionBody(await facePay.pin(t, (request.params as { id: string }).id, (request.body as { pin: string }).pin));
    },
  });

  app.post('/device/v1/face_attempts/:id/confirm', {
    schema: {
      tags: TAG,
      summary: 'The shopper tapped pay; retried with the same payment_id until a final answer',
      params: idParams,
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['payment_id'],
        properties: { payment_id: paymentIdSchema, join: { type: 'array', maxItems: 5, items: { type: 'string', maxLength: 20 } } },
      },
    },
    handler: async (request) => {
      const t = terminalOf(requireDevice(request));
      const b = request.body as { payment_id: string; join?: string[] };
      const r = await facePay.confirm(t, (request.params as { id: string }).id, { paymentId: b.payment_id, ...(b.join ? { join: b.join } : {}) });
      return { status: r.status, payment_id: r.paymentId, code: r.code ?? null, message: r.message ?? null };
    },
  });

  app.post('/device/v1/payment_intents/:id/pay_code', {
    schema: {
      tags: TAG,
      summary: 'Pay with a one-time code from the shopper portal (typed or scanned)',
      params: idParams,
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['code', 'payment_id'],
        properties: { code: { type: 'string', pattern: '^[0-9 ]{12,20}$' }, payment_id: paymentIdSchema },
      },
    },
    handler: async (request, reply) => {
      const t = terminalOf(requireDevice(request));
      const b = request.body as { code: string; payment_id: string };
      const r = await facePay.payWithCode(t, (request.params as { id: string }).id, b.code.replace(/ /g, ''), b.payment_id);
      // A declined payment is not a success: 402 with the decline's own code (insufficient_funds,
      // shopper_payment_limit_exceeded, ...), as a card processor answers. It is final: a retry
      // with the same payment_id gets the same 402.
      if (r.status !== 'succeeded') {
        return reply.code(402).send(
          errorBody(request, r.code ?? 'payment_failed', r.message ?? 'The payment failed.', {
            details: { status: 'failed', payment_id: r.paymentId },
          }),
        );
      }
      return { status: r.status, payment_id: r.paymentId, code: null, message: null };
    },
  });

  app.post('/device/v1/payment_intents/:id/cancel', {
    schema: { tags: TAG, summary: 'The cashier cancelled the payment', params: idParams },
    handler: async (request) => {
      const t = terminalOf(requireDevice(request));
      // A terminal cancels only what is meant for it, or what is meant for no terminal in its store.
      return intentResource(await payments.cancel(t.merchantId, (request.params as { id: string }).id, { terminal: { storeId: t.storeId, terminalId: t.terminalId } }));
    },
  });
}
