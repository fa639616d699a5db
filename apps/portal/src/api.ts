/**
 * The shopper portal's calls to the platform's shopper API. The session is an HttpOnly cookie the
 * server sets at sign-in, so nothing here handles a token. Errors carry the API's stable code.
 */
import { base64, type CapturedFrame } from '@facepay/face-capture';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
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
  wallet: { balance: number; currency: string };
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
  method: string;
  status: string;
  created_at: number;
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
    const e = (json.error ?? {}) as { code?: string; message?: string };
    throw new ApiError(response.status, e.code ?? `http_${response.status}`, e.message ?? response.statusText);
  }
  return json as T;
}

export const api = {
  signUp: (b: { email: string; password: string; name: string; phone?: string }) => call<Me>('POST', '/v1/shopper/signup', b),
  logIn: (b: { email: string; password: string }) => call<Me>('POST', '/v1/shopper/login', b),
  logOut: () => call<unknown>('POST', '/v1/shopper/logout', {}),
  me: () => call<Me>('GET', '/v1/shopper/me'),
  update: (b: Partial<Pick<Me, 'name' | 'phone' | 'face_pay_enabled' | 'always_ask_digits' | 'per_payment_limit'>>) =>
    call<Me>('PATCH', '/v1/shopper/me', b),
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
  topUp: (amount: number, currency: string) => call<Me>('POST', '/v1/shopper/topups', { amount, currency }),
  payments: () => call<{ data: ShopperPayment[] }>('GET', '/v1/shopper/payments'),
  payCode: () => call<{ code: string; expires_at: number }>('POST', '/v1/shopper/pay_codes', {}),
};
