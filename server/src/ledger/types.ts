/** Flag bits of an account; fixed when the account is made. */
export const DEBITS_MUST_NOT_EXCEED_CREDITS = 1;
export const CREDITS_MUST_NOT_EXCEED_DEBITS = 2;

export interface AccountInput {
  /** Made by the client, so that a retried creation is recognised. */
  id: string;
  /** Lower-case ISO 4217 code, e.g. `usd`. */
  currency: string;
  /** Why the account exists: `wallet`, `merchant`, `platform_fee`, `funding`, ... */
  code: string;
  flags?: number;
  metadata?: Record<string, unknown>;
}

export interface Account {
  id: string;
  currency: string;
  code: string;
  flags: number;
  debitsPending: number;
  debitsPosted: number;
  creditsPending: number;
  creditsPosted: number;
  metadata: Record<string, unknown>;
  createdAt: number;
}

/** `posted` moves money now; `pending` reserves it until a `post_pending`, `void_pending` or `expire_pending` resolves it. */
export type TransferKind = 'posted' | 'pending' | 'post_pending' | 'void_pending' | 'expire_pending';

export interface TransferInput {
  id: string;
  debitAccountId: string;
  creditAccountId: string;
  /** Integer minor units, > 0. */
  amount: number;
  currency: string;
  /** The reason: `payment`, `platform_fee`, `refund`, `top_up`, `correction`, ... */
  code: string;
  metadata?: Record<string, unknown>;
  /** A pending transfer (an authorisation) instead of a posted one. */
  pending?: boolean;
  /** For a pending transfer: after this many ms it can no longer be posted and is expired. */
  timeoutMs?: number;
}

export interface Transfer {
  id: string;
  debitAccountId: string;
  creditAccountId: string;
  amount: number;
  currency: string;
  code: string;
  kind: TransferKind;
  /** For a resolution: the pending transfer it resolves. */
  pendingId: string | null;
  timeoutAt: number | null;
  metadata: Record<string, unknown>;
  createdAt: number;
}

/** A pending transfer with how it ended (if it has). */
export type PendingState = 'pending' | 'posted' | 'voided' | 'expired';

export interface VerifyReport {
  ok: boolean;
  /** Per currency, the sum over all accounts of (credits - debits), posted and pending: both must be 0. */
  sums: Record<string, { posted: number; pending: number }>;
  accounts: number;
  transfers: number;
  problems: string[];
}
