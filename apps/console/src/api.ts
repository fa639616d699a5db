/**
 * The console's calls to the public /v1 API. The staff session is an HttpOnly cookie set at
 * sign-in, so nothing here holds a token; every request says it comes from the console
 * (`X-Facepay-Console: 1`), which the server requires of writes made with the cookie.
 */
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

/** Called when the session has ended (401), so the app can show the sign-in again. */
let onSignedOut: () => void = () => undefined;
export function whenSignedOut(fn: () => void): void {
  onSignedOut = fn;
}

/**
 * One call to the API. A POST carries an Idempotency-Key: pass `idempotencyKey` for an action the
 * person may send twice (a double click, a retry after a lost answer), made once when they set out
 * to do it (`newActionKey`), so that the server does it once; otherwise each call gets a fresh one.
 */
export async function call<T>(method: string, path: string, body?: unknown, opts: { idempotencyKey?: string } = {}): Promise<T> {
  const headers: Record<string, string> = { 'x-facepay-console': '1' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method === 'POST') headers['idempotency-key'] = opts.idempotencyKey ?? crypto.randomUUID();
  const response = await fetch(path, { method, credentials: 'same-origin', headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const text = await response.text();
  let json: Record<string, unknown> = {};
  try {
    json = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
  } catch {
    json = {};
  }
  if (!response.ok) {
    const e = (json.error ?? {}) as { code?: string; message?: string; details?: Record<string, unknown> };
    const err = new ApiError(response.status, e.code ?? `http_${response.status}`, e.message ?? response.statusText, e.details);
    if (response.status === 401 && !path.endsWith('/login')) onSignedOut();
    throw err;
  }
  return json as T;
}

/** A key for one intended action: kept while the same action is retried, replaced when it is done or changed. */
export function newActionKey(): string {
  return `console-${crypto.randomUUID()}`;
}

/** A query string from the set values only. */
export function qs(params: Record<string, string | number | undefined | null>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}

export interface List<T> {
  data: T[];
  has_more: boolean;
  next_cursor: string | null;
  total?: number;
}

export type Role = 'owner' | 'manager' | 'cashier';

export interface StaffMe {
  id: string;
  email: string;
  name: string;
  role: Role;
  refund_limit: number | null;
  merchant: { id: string; name: string };
  scopes: string[];
}

export interface StaffMember {
  id: string;
  email: string;
  name: string;
  role: Role;
  refund_limit: number | null;
  created: number;
}

export interface Store {
  id: string;
  name: string;
  created: number;
}

export interface Terminal {
  id: string;
  store: string;
  label: string;
  status: 'pending' | 'active' | 'revoked';
  created: number;
  activated_at: number | null;
  revoked_at: number | null;
  last_seen_at: number | null;
  activation_code?: string;
  activation_code_expires_at?: number;
}

export interface PaymentIntent {
  id: string;
  amount: number;
  currency: string;
  status: string;
  store: string;
  terminal: string | null;
  order_reference: string | null;
  description: string | null;
  discount?: number;
  coupon?: string | null;
  /** How the shopper was identified (face, face_digits, face_pin, pay_code); null when none was recorded. */
  payment_method: string | null;
  amount_received: number;
  amount_refunded: number;
  platform_fee_amount: number | null;
  failure_code: string | null;
  failure_message: string | null;
  created: number;
  /** The terminal's name (the id is `terminal`); absent from servers before it was added. */
  terminal_name?: string | null;
  /** Your programme's member id when the payer is a member. */
  member?: string | null;
  /** The campaign whose coupon paid the discount. */
  coupon_campaign?: { id: string; name: string } | null;
}

export interface Dispute {
  id: string;
  object: 'dispute';
  livemode: boolean;
  payment_intent: string;
  status: 'open' | 'refunded' | 'closed';
  reason: string;
  payment_method: 'face' | 'pay_code' | 'other';
  amount: number;
  currency: string;
  refund: string | null;
  created: number;
  updated: number;
  events: { type: string; at: number; detail: string | null }[];
}

/** One risk-engine decision for a face payment, as the intent's events carry it: codes only. */
export interface FaceDecisionEvent {
  id: string;
  type: string;
  created: number;
  data: { object: { id: string; choice: 'face' | 'face_digits' | 'face_pin' | 'no_face'; reasons: string[] } };
}

export interface Refund {
  id: string;
  amount: number;
  currency: string;
  payment_intent: string;
  reason: string | null;
  created: number;
}

export interface Figures {
  sales: number;
  refunded: number;
  payments: number;
  payments_by_face: number;
  payments_by_pay_code: number;
  face_share: number | null;
  new_members: number;
  redemptions: number;
  discount: number;
}

export interface Dashboard {
  time_zone: string;
  currency: string;
  today: Figures;
  month: Figures & { active_members: number; returning_members: number; returning_member_rate: number | null };
  daily: (Figures & { date: string })[];
}

export interface Programme {
  name: string;
  benefits: string;
  fields: string[];
  currency: string;
  time_zone: string;
}

export interface Member {
  id: string;
  status: 'active' | 'left' | 'deleted';
  joined_at: number;
  fields: Record<string, string>;
  tags: string[];
  visits: number;
  spend: number;
  average_ticket: number;
  last_visit_at: number | null;
  rfm: { recency: number; frequency: number; monetary: number };
  segment: string;
}

export interface MemberProfile extends Member {
  weekdays: number[];
  usual_days: string[];
  usual_hours: number[];
  stores: { store: string; visits: number; spend: number }[];
  recent_purchases: { payment_intent: string; store: string; amount: number; refunded: number; currency: string; created: number }[];
}

export interface Coupon {
  id: string;
  campaign: string;
  title: string;
  status: string;
  currency: string;
  valid_to: number;
}

export type Audience = { kind: 'all' } | { kind: 'new'; days?: number } | { kind: 'segment'; segment: string } | { kind: 'birthday_month' } | { kind: 'lapsed'; days: number } | { kind: 'tag'; tag: string };

export type Reward =
  | { kind: 'amount_off'; amount: number; min_spend?: number }
  | { kind: 'percent_off'; percent: number; cap: number | null; min_spend?: number }
  | { kind: 'spend_save'; threshold: number; amount: number }
  | { kind: 'free_item'; code: string; label: string; value?: number };

export interface Campaign {
  id: string;
  name: string;
  status: 'active' | 'paused' | 'ended';
  trigger: 'join' | 'payment' | 'schedule' | 'manual';
  audience: Audience;
  reward: Reward;
  currency: string;
  valid_from: number;
  valid_to: number;
  coupon_days: number | null;
  budget: { max_discount: number | null; max_coupons: number | null };
  holdout_percent: number;
  issued_count: number;
  discount_used: number;
  created: number;
}

export interface GroupResult {
  members: number;
  redeemers: number;
  redemption_rate: number | null;
  spend_per_member: number | null;
}

export interface CampaignResults {
  window: { from: number; to: number };
  treatment: GroupResult;
  holdout: GroupResult;
  coupons_issued: number;
  coupons_redeemed: number;
  discount_given: number;
  uplift: { difference: number; low: number; high: number; confidence: number } | null;
}

export interface ApiKey {
  id: string;
  name: string;
  mode: 'test' | 'live';
  scopes: string[];
  last4: string;
  revoked: boolean;
  created: number;
  secret?: string;
}

export interface WebhookEndpoint {
  id: string;
  url: string;
  enabled_events: string[];
  status: string;
  created: number;
  secret?: string;
}

export interface Delivery {
  id: string;
  endpoint: string;
  event: string;
  status: string;
  attempts: number;
  next_attempt_at: number | null;
  last_status_code: number | null;
  last_error: string | null;
  created: number;
  attempt_log?: { attempted_at: number; status_code: number | null; error: string | null; duration_ms: number }[];
}

/** The same rule as the server: `*`, the scope itself, `area:write` for `area:read`, and either for `area:lookup`. */
export function hasScope(scopes: readonly string[], needed: string): boolean {
  if (scopes.includes('*') || scopes.includes(needed)) return true;
  const [area, level] = needed.split(':');
  if (level === 'read') return scopes.includes(`${area}:write`);
  if (level === 'lookup') return scopes.includes(`${area}:read`) || scopes.includes(`${area}:write`);
  return false;
}

/** A daily settlement statement (amounts in minor units). */
export interface Settlement {
  id: string;
  day: string;
  currency: string;
  time_zone: string;
  gross: number;
  coupon_discounts: number;
  refunds: number;
  platform_fees: number;
  adjustments: number;
  carried_in: number;
  net: number;
  transfer_count: number;
  status: 'closed' | 'carried' | 'in_payout' | 'paid';
  transfers?: { id: string; code: string; amount: number; created_at: string }[];
}
