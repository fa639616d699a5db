export interface Merchant {
  id: string;
  name: string;
  createdAt: number;
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
 * payments (payment intents and refunds), stores, webhooks, keys, devices.
 */
export const SCOPES = [
  '*',
  'payments:read',
  'payments:write',
  'stores:read',
  'stores:write',
  'webhooks:read',
  'webhooks:write',
  'keys:read',
  'keys:write',
  'devices:read',
  'devices:write',
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

/** Who a request acts for, once its API key is checked. */
export interface MerchantAuth {
  merchantId: string;
  keyId: string;
  mode: KeyMode;
  scopes: string[];
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
