/** `canceled`: the shopper deleted the account before any rail received the money; it never will be credited. */
export type IntentStatus = 'pending' | 'confirmed' | 'canceled';

/** A shopper's request to top up; the wallet grows only once a rail confirms it. */
export interface FundingIntent {
  id: string;
  /** `<shopper>:<idempotency key>`: a retried request finds its intent instead of making another. */
  requestRef: string;
  shopperId: string;
  /** A test top-up's merchant, whose test wallet for the shopper it fills (test payments spend from it); null for real money. */
  merchantId: string | null;
  amount: number;
  currency: string;
  status: IntentStatus;
  /** The rail that confirmed it (`test`, `bank_transfer`, `service_desk`, `card`). */
  rail: string | null;
  /** The rail's own id of the money received; one intent per (rail, rail_ref). */
  railRef: string | null;
  transferId: string | null;
  createdAt: number;
  confirmedAt: number | null;
}

export interface FundingConfig {
  /** `test`: a top-up is credited at once (today's demo behaviour, test shoppers only in live). `live`: it waits for a rail. */
  mode: 'test' | 'live';
  perTopUpCap: number;
  dailyCap: number;
}
