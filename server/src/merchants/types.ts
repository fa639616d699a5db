/** `closed` is final: the operator closes a suspended merchant whose money is all paid out, and nothing reopens it. */
export type MerchantStatus = 'active' | 'suspended' | 'closed';

export interface Merchant {
  id: string;
  name: string;
  /** A suspended merchant's API keys, console logins and terminals are refused until the operator reactivates it. */
  status: MerchantStatus;
  createdAt: number;
  /** When the operator closed it and which operator staff member did (null until closed). */
  closedAt: number | null;
  closedBy: string | null;
}

/**
 * What still ties a merchant to money, as settlement sees it: a live payable not at zero (decimal
 * strings of minor units, by currency) and payout runs not yet sent or returned that hold an item of it.
 */
export interface ClosureBlockers {
  balances: { currency: string; amount: string }[];
  openPayoutRuns: string[];
}

export interface Store {
  id: string;
  merchantId: string;
  name: string;
  metadata: Record<string, string>;
  createdAt: number;
}

export type KeyMode = 'test' | 'live';

/**
 * What a key may do. `*` is everything; `<area>:write` implies `<area>:read`. Areas:
 * payments (payment intents and refunds), stores, webhooks, keys, devices, staff (console logins),
 * members (the CRM; `members:export` is its own scope, not implied, as is `payments:export`), marketing (campaigns, messages).
 */
export const SCOPES = [
  '*',
  'payments:read',
  'payments:write',
  /** The payments as CSV: every payment at once is more than a cashier's till needs. */
  'payments:export',
  'stores:read',
  'stores:write',
  'webhooks:read',
  'webhooks:write',
  'keys:read',
  'keys:write',
  'devices:read',
  'devices:write',
  /** Members by member id, visits and spend, without the personal fields they share (a cashier's view). */
  'members:lookup',
  'members:read',
  'members:write',
  'members:export',
  'marketing:read',
  'marketing:write',
  'staff:read',
  'staff:write',
] as const;

export interface ApiKey {
  id: string;
  merchantId: string;
  name: string;
  mode: KeyMode;
  scopes: string[];
  /** The last four characters of the secret, to tell keys apart; the secret itself is stored only hashed. */
  last4: string;
  revokedAt: number | null;
  createdAt: number;
}

export type StaffRole = 'owner' | 'manager' | 'cashier';

/** Who a request acts for, once its API key (or a console staff session) is checked. */
export interface MerchantAuth {
  merchantId: string;
  /** The API key's id, or the staff member's for a console session. */
  keyId: string;
  mode: KeyMode;
  scopes: string[];
  /** Set for a console session: who signed in, and a cashier's refund limit in minor units (null: none). */
  staff?: { id: string; role: StaffRole; refundLimit: number | null };
}

export interface Page<T> {
  data: T[];
  hasMore: boolean;
  nextCursor: string | null;
}

export interface PageQuery {
  limit?: number;
  cursor?: string;
}
