/**
 * What the device routes answer, for the OpenAPI document: the 200 body and every error code a
 * route can give, by status. Device makers write clients from docs/device-protocol.md and
 * /openapi.json alone, so a test (openapi.test.ts) holds every route under /device/ to an entry
 * here. The signature's own refusals are added to every signed route by `signedErrors`.
 */

type Schema = Record<string, unknown>;

export interface DeviceRouteDoc {
  answer: Schema;
  /** Error codes by HTTP status, beyond the signature's and the general ones. */
  errors: Record<number, string[]>;
}

const str = { type: 'string' } as const;
const int = { type: 'integer' } as const;
const nullable = (s: Schema): Schema => ({ ...s, nullable: true });
const obj = (properties: Record<string, Schema>, required = Object.keys(properties)): Schema => ({ type: 'object', required, properties });

const terminal = {
  id: str,
  object: { type: 'string', enum: ['terminal'] },
  store: str,
  label: str,
  status: { type: 'string', enum: ['pending', 'active', 'revoked'] },
  algorithm: nullable({ type: 'string', enum: ['ES256', 'Ed25519'] }),
  key_thumbprint: nullable(str),
  created: int,
  activated_at: nullable(int),
  revoked_at: nullable(int),
  last_seen_at: nullable(int),
};

export const PAYMENT_INTENT_SCHEMA: Schema = obj({
  id: str,
  object: { type: 'string', enum: ['payment_intent'] },
  livemode: { type: 'boolean' },
  amount: int,
  currency: str,
  status: { type: 'string', enum: ['requires_face', 'processing', 'succeeded', 'failed', 'cancelled'] },
  store: str,
  terminal: nullable(str),
  order_reference: nullable(str),
  description: nullable(str),
  metadata: { type: 'object' },
  discount: int,
  coupon: nullable(str),
  amount_received: int,
  amount_refunded: int,
  platform_fee_amount: nullable(int),
  failure_code: nullable(str),
  failure_message: nullable(str),
  created: int,
  updated: int,
});

const paymentAnswer = obj({
  status: { type: 'string', enum: ['succeeded', 'failed'], description: 'failed only on confirm: pay_code answers a decline as 402' },
  payment_id: str,
  code: nullable({ type: 'string', description: 'The decline code when failed.' }),
  message: nullable(str),
});

const FACE_QUALITY = ['no_face', 'multiple_faces', 'face_too_small', 'face_cut_off', 'face_turned', 'face_blurred', 'face_too_dark', 'face_too_bright'];

/** The refusals of section 4.2 of docs/device-protocol.md, on every signed route. */
export const SIGNED_ERRORS: Record<number, string[]> = {
  400: ['device_auth_malformed'],
  401: ['device_auth_missing', 'device_timestamp_stale', 'device_unknown', 'device_signature_invalid', 'device_nonce_reused'],
  403: ['device_not_activated', 'device_revoked'],
  429: ['device_nonce_limit', 'device_rate_limited'],
  503: ['devices_unavailable'],
};

/** General codes any route may answer. */
export const GENERAL_ERRORS: Record<number, string[]> = {
  400: ['invalid_json', 'parameter_invalid', 'nul_character', 'json_too_deep'],
  413: ['body_too_large'],
  415: ['unsupported_media_type'],
  429: ['rate_limited'],
  500: ['internal_error'],
};

/** A face decision's fields, as a capture or a PIN answers them (which ones come with which outcome: each route's description). */
const decisionFields = {
  attempt_id: str,
  masked_name: str,
  amount: int,
  amount_due: int,
  discount: int,
  currency: str,
  coupon: nullable({ type: 'object' }),
  offers: { type: 'array', items: { type: 'object' } },
  membership: nullable({ type: 'object' }),
  attempts_left: int,
};

export const DEVICE_ROUTE_DOCS: Record<string, DeviceRouteDoc> = {
  'POST /device/v1/activate': {
    answer: obj({ device_id: str, merchant_id: str, store_id: str, algorithm: { type: 'string', enum: ['ES256', 'Ed25519'] }, key_thumbprint: str, server_time: int }),
    errors: {
      400: ['device_key_invalid', 'device_key_unsupported'],
      401: ['activation_code_invalid', 'activation_code_used', 'activation_code_expired'],
      403: ['device_revoked'],
      409: ['device_key_in_use'],
    },
  },
  'GET /device/v1/me': {
    answer: obj(
      { ...terminal, terminal_id: str, merchant_id: str, store_id: str, name: str, store_name: str, currency: str, server_time: int },
      [...Object.keys(terminal), 'terminal_id', 'merchant_id', 'store_id', 'name', 'store_name', 'server_time'],
    ),
    errors: { 404: ['terminal_not_found', 'store_not_found'] },
  },
  'GET /device/v1/payment_intents/next': {
    answer: obj({ intent: nullable(PAYMENT_INTENT_SCHEMA) }),
    errors: {},
  },
  'POST /device/v1/payment_intents': {
    answer: PAYMENT_INTENT_SCHEMA,
    errors: { 400: ['idempotency_key_mismatch', 'amount_invalid', 'currency_invalid'], 404: ['store_not_found'], 409: ['idempotency_key_reused'] },
  },
  'POST /device/v1/payment_intents/:id/face_challenges': {
    answer: obj({ attempt_id: str, challenge: obj({ kind: { type: 'string', enum: ['turn_left', 'turn_right', 'blink'] }, expires_at: int }) }),
    errors: { 404: ['payment_intent_not_found'], 409: ['intent_not_payable'], 429: ['face_engine_busy'], 503: ['face_engine_off'] },
  },
  'POST /device/v1/face_attempts/:id/captures': {
    answer: {
      type: 'object',
      required: ['outcome'],
      description:
        'outcome match: attempt_id, masked_name, amount, amount_due, discount, currency, coupon, offers, membership; ambiguous: attempt_id, attempts_left, reason; pin: attempt_id, attempts_left (section 6.2); liveness_failed and retry: code, message (section 6.1); no_match, no_face and face_pay_off: nothing else.',
      properties: {
        outcome: { type: 'string', enum: ['match', 'ambiguous', 'pin', 'no_match', 'no_face', 'face_pay_off', 'liveness_failed', 'retry'] },
        ...decisionFields,
        reason: str,
        code: str,
        message: str,
      },
    },
    errors: {
      400: ['frames_invalid', 'image_empty', 'image_undecodable', 'digits_invalid'],
      404: ['attempt_not_found'],
      409: ['challenge_used', 'attempt_expired', 'attempt_changed', 'face_model_mismatch'],
      413: ['frame_too_large', 'image_too_large'],
      422: FACE_QUALITY,
      429: ['face_engine_busy'],
      503: ['face_engine_off', 'face_engine_closed', 'face_calibration_missing'],
    },
  },
  'POST /device/v1/face_attempts/:id/pin': {
    answer: {
      type: 'object',
      required: ['outcome'],
      description: 'outcome match: as for a capture; pin: attempt_id, attempts_left (a wrong PIN with tries left); no_match (no tries left); face_pay_off (the shopper is locked out). The PIN is never answered.',
      properties: {
        outcome: { type: 'string', enum: ['match', 'pin', 'no_match', 'face_pay_off'] },
        ...decisionFields,
      },
    },
    errors: { 400: ['pin_invalid'], 404: ['attempt_not_found'], 409: ['attempt_not_ready', 'attempt_expired', 'attempt_changed'] },
  },
  'POST /device/v1/face_attempts/:id/confirm': {
    answer: paymentAnswer,
    errors: { 404: ['attempt_not_found', 'payment_intent_not_found'], 409: ['attempt_not_ready', 'attempt_expired', 'attempt_already_paid', 'intent_not_payable'], 429: ['checkout_in_progress'] },
  },
  'POST /device/v1/payment_intents/:id/pay_code': {
    answer: obj({ status: { type: 'string', enum: ['succeeded'] }, payment_id: str, code: { type: 'string', nullable: true, enum: [null] }, message: { type: 'string', nullable: true, enum: [null] } }),
    errors: {
      402: ['insufficient_funds', 'shopper_payment_limit_exceeded', 'shopper_daily_limit_exceeded', 'payment_failed'],
      404: ['payment_intent_not_found'],
      409: ['payment_id_reused', 'intent_not_payable'],
      422: ['pay_code_invalid'],
      429: ['checkout_in_progress'],
    },
  },
  'POST /device/v1/payment_intents/:id/cancel': {
    answer: PAYMENT_INTENT_SCHEMA,
    errors: { 404: ['payment_intent_not_found'], 409: ['payment_intent_unexpected_state'] },
  },
};

/** The codes of one route by status: its own, the signature's (unless it is activation) and the general ones. */
export function deviceRouteErrors(key: string, signed: boolean): Record<number, string[]> {
  const doc = DEVICE_ROUTE_DOCS[key];
  const out: Record<number, string[]> = {};
  for (const part of [doc?.errors ?? {}, signed ? SIGNED_ERRORS : {}, GENERAL_ERRORS]) {
    for (const [status, codes] of Object.entries(part)) out[Number(status)] = [...new Set([...(out[Number(status)] ?? []), ...codes])];
  }
  return out;
}
