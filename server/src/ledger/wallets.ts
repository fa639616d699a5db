import { DomainError } from '../platform/index.ts';
import type { SqlExecutor } from '../storage/index.ts';
import type { Ledger } from './service.ts';
import { DEBITS_MUST_NOT_EXCEED_CREDITS, type Account, type Transfer } from './types.ts';

/**
 * Shopper wallets: one ledger account per shopper and currency that can never go below zero.
 * There is no shoppers module here: a shopper is only an id string.
 */
export function walletAccountId(shopperId: string, currency: string): string {
  return `wallet:${shopperId}:${currency}`;
}

/** The account where money from outside enters, per funding rail; its balance goes negative as wallets fill. */
export function fundingAccountId(rail: string, currency: string): string {
  return `funding:${rail}:${currency}`;
}

const SHOPPER_ID = /^[A-Za-z0-9_\-.]{1,64}$/;

export function checkShopperId(shopperId: unknown): string {
  if (typeof shopperId !== 'string' || !SHOPPER_ID.test(shopperId)) {
    throw new DomainError('invalid', 'shopper_id_invalid', 'a shopper id is 1 to 64 letters, digits, _ - or .');
  }
  return shopperId;
}

export interface Wallets {
  open(shopperId: string, currency: string, tx?: SqlExecutor): Promise<Account>;
  /** Spendable balance: posted credits less posted and pending debits. Zero for a wallet never opened. */
  balance(shopperId: string, currency: string): Promise<number>;
}

export function createWallets(ledger: Ledger): Wallets {
  return {
    open(shopperId, currency, tx) {
      return ledger.createAccount(
        { id: walletAccountId(checkShopperId(shopperId), currency), currency, code: 'wallet', flags: DEBITS_MUST_NOT_EXCEED_CREDITS },
        tx,
      );
    },
    async balance(shopperId, currency) {
      try {
        const a = await ledger.getAccount(walletAccountId(checkShopperId(shopperId), currency));
        return a.creditsPosted - a.debitsPosted - a.debitsPending;
      } catch (e) {
        if (e instanceof DomainError && e.code === 'account_not_found') return 0;
        throw e;
      }
    },
  };
}

export interface FundingRequest {
  shopperId: string;
  amount: number;
  currency: string;
  /** Unique per top-up and made by the caller: a retry with the same reference funds once. */
  reference: string;
}

/**
 * Where a shopper's money comes from. A card or bank rail implements this by collecting the money
 * outside first and then moving it into the wallet; the top-up below is the rail of this release.
 */
export interface FundingSource {
  readonly rail: string;
  fund(req: FundingRequest): Promise<Transfer>;
}

/** Funds a wallet straight from the top-up funding account (an operator or test top-up). */
export function topUpFundingSource(ledger: Ledger, wallets: Wallets): FundingSource {
  const rail = 'top_up';
  const opened = new Set<string>();
  return {
    rail,
    async fund({ shopperId, amount, currency, reference }) {
      checkShopperId(shopperId);
      const key = `${shopperId}:${currency}`;
      if (!opened.has(key)) {
        await ledger.createAccount({ id: fundingAccountId(rail, currency), currency, code: 'funding' });
        await wallets.open(shopperId, currency);
        opened.add(key);
      }
      const [t] = await ledger.createTransfers([
        {
          id: `topup:${reference}`,
          debitAccountId: fundingAccountId(rail, currency),
          creditAccountId: walletAccountId(shopperId, currency),
          amount,
          currency,
          code: 'top_up',
        },
      ]);
      return t!;
    },
  };
}
