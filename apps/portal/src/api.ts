/**
 * The shopper portal's calls to the platform's shopper API. The session is an HttpOnly cookie the
 * server sets at sign-in, so nothing here handles a token. Errors carry the API's stable code.
 */
import { base64, type CapturedFrame } from '@facepay/face-capture';
import { describeError, MEMBER_FIELDS, type MemberField } from '@facepay/web-common';
import { i18n } from './messages.ts';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export interface Me {
  id: string;
  email: string;
  name: string;
  phone: string | null;
  face_pay_enabled: boolean;
  always_ask_digits: boolean;
  per_payment_limit: number | null;
  face_enrolled: boolean;
  /** Whether a face-pay PIN is set (the PIN itself is never sent back). */
  has_face_pay_pin: boolean;
  /** The enrolled face was made by an earlier face model: terminals cannot recognise it until the shopper enrols again. */
  face_enrol_again: boolean;
  wallet: { balance: number; currency: string };
}

/** A top-up as the server answers it: `pending` until a funding rail (bank transfer, service desk, card) receives the money. */
export interface TopUp {
  id: string;
  amount: number;
  currency: string;
  status: 'pending' | 'confirmed';
}

export interface Consent {
  version: string;
  text: string;
  accepted: boolean;
  accepted_at: number | null;
}

export interface ShopperPayment {
  id: string;
  merchant_name: string;
  store_name: string | null;
  amount: number;
  refunded: number;
  currency: string;
  /** What the payment recorded (face, face_digits, face_pin, pay_code); null when none was kept. */
  method: string | null;
  /** How the risk engine let this face payment go (face alone, with the phone digits, with the PIN) and why, as codes. */
  face_decision: { choice: 'face' | 'face_digits' | 'face_pin' | 'no_face'; reasons: string[] } | null;
  status: string;
  created_at: number;
}

/** What to tell the shopper when a call fails, in their language from the API's stable code (never the server's English text). */
export function errorMessage(e: unknown, currency?: string): string {
  return describeError(i18n, e instanceof ApiError ? e : undefined, currency);
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: body === undefined ? {} : { 'content-type': 'application/json', 'idempotency-key': crypto.randomUUID() },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  const json = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
  if (!response.ok) {
    const e = (json.error ?? {}) as { code?: string; message?: string; details?: Record<string, unknown> };
    throw new ApiError(response.status, e.code ?? `http_${response.status}`, e.message ?? response.statusText, e.details);
  }
  return json as T;
}

export const api = {
  /** Sign-up answers alike for new and known e-mails (it does not sign in); signing in with the password follows. */
  signUp: async (b: { email: string; password: string; name: string; phone?: string }) => {
    await call<unknown>('POST', '/v1/shopper/signup', b);
    return call<Me>('POST', '/v1/shopper/login', { email: b.email, password: b.password });
  },
  logIn: (b: { email: string; password: string }) => call<Me>('POST', '/v1/shopper/login', b),
  logOut: () => call<unknown>('POST', '/v1/shopper/logout', {}),
  requestReset: (email: string) => call<{ message: string }>('POST', '/v1/shopper/password_reset', { email }),
  completeReset: (token: string, password: string) => call<unknown>('POST', '/v1/shopper/password_reset/complete', { token, password }),
  me: () => call<Me>('GET', '/v1/shopper/me'),
  /** `password` only with `face_pay_enabled: true`: the unlock that also clears the wrong digits and PINs counted. */
  update: (b: Partial<Pick<Me, 'name' | 'phone' | 'face_pay_enabled' | 'always_ask_digits' | 'per_payment_limit'>> & { password?: string }) =>
    call<Me>('PATCH', '/v1/shopper/me', b),
  setPin: (pin: string, password: string) => call<Me>('PUT', '/v1/shopper/face_pay_pin', { pin, password }),
  removePin: (password: string) => call<Me>('DELETE', '/v1/shopper/face_pay_pin', { password }),
  consent: () => call<Consent>('GET', '/v1/shopper/consent'),
  acceptConsent: (version: string) => call<Consent>('POST', '/v1/shopper/consent', { version }),
  withdrawConsent: () => call<Me>('DELETE', '/v1/shopper/consent'),
  faceChallenge: () => call<{ challenge_id: string; kind: 'turn_left' | 'turn_right' | 'blink'; expires_at: number }>('POST', '/v1/shopper/face/challenges', {}),
  enrol: (challengeId: string, frames: readonly CapturedFrame[]) =>
    call<Me>('POST', '/v1/shopper/face', {
      challenge_id: challengeId,
      frames: frames.map((f) => ({ at: f.at, jpeg: base64(f.jpeg) })),
      sent_at: Date.now(),
    }),
  deleteFace: () => call<Me>('DELETE', '/v1/shopper/face'),
  topUp: (amount: number, currency: string) => call<Me & { top_up?: TopUp; payment_reference?: string }>('POST', '/v1/shopper/topups', { amount, currency }),
  payments: () => call<{ data: ShopperPayment[] }>('GET', '/v1/shopper/payments'),
  payCode: () => call<{ code: string; expires_at: number }>('POST', '/v1/shopper/pay_codes', {}),
};

export { MEMBER_FIELDS, type MemberField };
export type MemberFields = Partial<Record<MemberField, string>>;

export interface Membership {
  merchant: string;
  merchant_name: string;
  member_id: string;
  programme: string;
  benefits: string;
  joined_at: number;
  shared_fields: MemberFields;
  asked_fields: MemberField[];
  consent: { version: string; text: string };
}

export interface MembershipConsent {
  fields: MemberField[];
  text_version: string;
  terminal: string | null;
  accepted_at: number;
  withdrawn_at: number | null;
}

export interface InboxItem {
  id: string;
  kind: 'receipt' | 'coupon' | 'message';
  merchant: string;
  merchant_name: string;
  /** A notice from Facepay itself (the retention rule's), not from a shop: it cannot be muted. */
  from_platform: boolean;
  title: string;
  body: string;
  created: number;
  read_at: number | null;
  /** On receipts: `amount` is what was paid, after the coupon's `discount`. */
  payment: {
    payment_intent: string;
    amount: number;
    discount: number;
    currency: string;
    /** How it was paid at the terminal: only a face payment freezes face pay when disputed. */
    method?: 'face' | 'pay_code' | 'other';
    /** The receipt's latest dispute ("This wasn't me"), if any. */
    dispute?: { id: string; status: 'open' | 'refunded' | 'closed' } | null;
  } | null;
  coupon: { id: string; description: string; currency: string; valid_to: number; status: 'issued' | 'redeemed' | 'void' | 'expired' } | null;
}

export interface Mute {
  merchant: string;
  merchant_name: string;
  muted_at: number;
}

interface List<T> {
  data: T[];
  has_more: boolean;
  next_cursor?: string | null;
}

const merchantPath = (merchantId: string) => encodeURIComponent(merchantId);

export const crmApi = {
  memberships: () => call<List<Membership>>('GET', '/v1/shopper/memberships'),
  membershipConsents: (merchantId: string) => call<List<MembershipConsent>>('GET', `/v1/shopper/memberships/${merchantPath(merchantId)}/consents`),
  share: (merchantId: string, fields: MemberFields, consentVersion: string) =>
    call<Membership>('PATCH', `/v1/shopper/memberships/${merchantPath(merchantId)}`, { fields, consent_version: consentVersion }),
  leave: (merchantId: string) => call<unknown>('DELETE', `/v1/shopper/memberships/${merchantPath(merchantId)}`),
  inbox: (cursor: string | null, limit: number) =>
    call<List<InboxItem>>('GET', `/v1/shopper/inbox?limit=${limit}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`),
  markRead: (itemId: string) => call<unknown>('POST', `/v1/shopper/inbox/${encodeURIComponent(itemId)}/read`, {}),
  coupons: () => call<List<InboxItem>>('GET', '/v1/shopper/coupons'),
  mutes: () => call<List<Mute>>('GET', '/v1/shopper/mutes'),
  mute: (merchantId: string) => call<unknown>('PUT', `/v1/shopper/mutes/${merchantPath(merchantId)}`, {}),
  unmute: (merchantId: string) => call<unknown>('DELETE', `/v1/shopper/mutes/${merchantPath(merchantId)}`),
  dispute: (paymentIntent: string) => call<ShopperDispute>('POST', '/v1/shopper/disputes', { payment_intent: paymentIntent }),
};

export interface ShopperDispute {
  id: string;
  payment_intent: string;
  status: 'open' | 'refunded' | 'closed';
  payment_method: 'face' | 'pay_code' | 'other';
  face_pay_frozen: boolean;
}

/** What deleting the account keeps, and why (the server's words), and any deletion under way. */
export interface DeletionTerms {
  kept: string;
  face_template_retention_days: number;
  deletion: { id: string; status: 'running' | 'done' } | null;
}

export const rightsApi = {
  /** The data export as a file to save: the body as it came, and the name the server gave it. */
  exportData: async (password: string): Promise<{ blob: Blob; filename: string }> => {
    const response = await fetch('/v1/shopper/data_export', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ password }),
    });
    if (!response.ok) {
      const json = (await response.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
      throw new ApiError(response.status, json.error?.code ?? `http_${response.status}`, json.error?.message ?? response.statusText);
    }
    const filename = /filename="([^"]+)"/.exec(response.headers.get('content-disposition') ?? '')?.[1] ?? 'facepay-data.json';
    return { blob: await response.blob(), filename };
  },
  deletionTerms: () => call<DeletionTerms>('GET', '/v1/shopper/account_deletion'),
  deleteAccount: (password: string) => call<{ id: string; status: 'running' | 'done' }>('POST', '/v1/shopper/account_deletion', { password }),
};
