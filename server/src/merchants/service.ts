import { createHash } from 'node:crypto';
import { DomainError, type Clock, type IdGenerator, type Random } from '../platform/index.ts';
import type { Db, SqlExecutor } from '../storage/index.ts';
import { merchantRepo as repo } from './repo.ts';
import { SCOPES, type ApiKey, type ClosureBlockers, type KeyMode, type Merchant, type MerchantAuth, type MerchantStatus, type Page, type PageQuery, type Store } from './types.ts';

/** The statuses the operator sets by suspension and reactivation; `closed` only comes from closeMerchant. */
const SETTABLE: readonly MerchantStatus[] = ['active', 'suspended'];
const STATUSES: readonly MerchantStatus[] = ['active', 'suspended', 'closed'];

const suspended = (id: string): DomainError =>
  new DomainError('forbidden', 'merchant_suspended', 'This merchant is suspended by the platform operator: its keys, console logins and terminals do not work until it is reactivated.', { merchant: id });
const closed = (id: string): DomainError =>
  new DomainError('forbidden', 'merchant_closed', 'This merchant has been closed by the platform operator: its keys, console logins and terminals no longer work.', { merchant: id });
/** What a merchant that is not active gets refused with, wherever it is refused. */
const refusal = (id: string, status: MerchantStatus): DomainError => (status === 'closed' ? closed(id) : suspended(id));

export interface MerchantsDeps {
  db: Db;
  clock: Clock;
  ids: IdGenerator;
  random: Random;
  /**
   * What settlement says still ties the merchant to money, read in the closing transaction.
   * Without it (a platform without settlement) no merchant can be closed.
   */
  closureBlockers?: (tx: SqlExecutor, merchantId: string) => Promise<ClosureBlockers>;
}

export interface MerchantService {
  createMerchant(input: { name: string }): Promise<Merchant>;
  getMerchant(id: string): Promise<Merchant>;
  countMerchants(): Promise<number>;
  /** Every merchant for the operator, newest first. */
  listMerchants(q?: PageQuery & { status?: string }): Promise<Page<Merchant>>;
  /** The operator suspends or reactivates a merchant; answers the merchant as it now is (the same status again changes nothing). */
  setStatus(id: string, status: string): Promise<Merchant>;
  /**
   * Closes a suspended merchant for good, recording who (`by`, an operator staff id) and when:
   * refused with `merchant_not_suspended` unless suspended, `payout_open` while a payout run not
   * yet sent or returned holds its money, `merchant_balance_not_zero` while its live payable is
   * not zero. Closing a closed merchant answers it as it is.
   */
  closeMerchant(id: string, by: string): Promise<Merchant>;
  /** Throws `merchant_closed` (409) for a closed merchant: nothing new is made for it (an owner invitation, ...). */
  assertNotClosed(id: string): Promise<void>;
  /** Throws `merchant_suspended` or `merchant_closed` (403) for a merchant that is not active, `merchant_not_found` for none. */
  assertActive(id: string): Promise<void>;
  createStore(merchantId: string, input: { name: string; metadata?: Record<string, string> }): Promise<Store>;
  /** The store, if it belongs to this merchant; otherwise `store_not_found` (another merchant's ids are not revealed). */
  getStore(merchantId: string, storeId: string): Promise<Store>;
  /** Throws `store_not_found` unless the store belongs to the merchant. */
  assertStoreOfMerchant(merchantId: string, storeId: string): Promise<void>;
  listStores(merchantId: string, q?: PageQuery): Promise<Page<Store>>;
  /** Makes a key; the secret is in the answer only, never stored or shown again. */
  createApiKey(merchantId: string, input?: { name?: string; mode?: KeyMode; scopes?: string[] }): Promise<{ key: ApiKey; secret: string }>;
  listApiKeys(merchantId: string, q?: PageQuery): Promise<Page<ApiKey>>;
  revokeApiKey(merchantId: string, keyId: string): Promise<ApiKey>;
  /** Resolves a secret to its merchant; `api_key_invalid` or `api_key_revoked` otherwise. */
  authenticate(secret: string): Promise<MerchantAuth>;
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function pageLimit(limit: number | undefined): number {
  if (limit === undefined) return 10;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 100) {
    throw new DomainError('invalid', 'limit_invalid', 'limit must be an integer from 1 to 100');
  }
  return limit;
}

/** Turns `limit + 1` fetched rows into a page. */
export function toPage<T extends { id: string }>(rows: T[], limit: number): Page<T> {
  const hasMore = rows.length > limit;
  const data = hasMore ? rows.slice(0, limit) : rows;
  return { data, hasMore, nextCursor: hasMore ? (data[data.length - 1]?.id ?? null) : null };
}

function checkName(name: unknown, what: string): string {
  if (typeof name !== 'string' || name.trim().length === 0 || name.length > 200) {
    throw new DomainError('invalid', `${what}_name_invalid`, `${what} name must be 1 to 200 characters`);
  }
  return name.trim();
}

export function createMerchantService({ db, clock, ids, random, closureBlockers }: MerchantsDeps): MerchantService {
  // Store ownership never changes, so a positive answer is remembered: it is asked on every payment.
  const storeOwner = new Map<string, string>();

  function newSecret(mode: KeyMode): string {
    const bytes = random.bytes(32);
    let s = '';
    for (const b of bytes) s += ALPHABET[b % ALPHABET.length];
    return `sk_${mode}_${s}`;
  }

  async function getStore(merchantId: string, storeId: string): Promise<Store> {
    const s = await repo.getStore(db, merchantId, storeId);
    if (!s) throw new DomainError('not_found', 'store_not_found', `no store ${storeId}`);
    return s;
  }

  return {
    async createMerchant({ name }) {
      const m: Merchant = { id: ids.next('mer'), name: checkName(name, 'merchant'), status: 'active', createdAt: clock.now().getTime(), closedAt: null, closedBy: null };
      await repo.insertMerchant(db, m);
      return m;
    },

    async getMerchant(id) {
      const m = await repo.getMerchant(db, id);
      if (!m) throw new DomainError('not_found', 'merchant_not_found', `no merchant ${id}`);
      return m;
    },

    countMerchants: () => repo.countMerchants(db),

    async listMerchants(q = {}) {
      const limit = pageLimit(q.limit);
      if (q.status !== undefined && !(STATUSES as readonly string[]).includes(q.status)) throw new DomainError('invalid', 'status_invalid', 'status is active, suspended or closed');
      return toPage(await repo.listMerchants(db, { ...(q.status ? { status: q.status } : {}), ...(q.cursor ? { cursor: q.cursor } : {}), limit: limit + 1 }), limit);
    },

    async setStatus(id, status) {
      if (!(SETTABLE as readonly string[]).includes(status)) throw new DomainError('invalid', 'status_invalid', 'status is active or suspended');
      await repo.setMerchantStatus(db, id, status as MerchantStatus, clock.now().getTime());
      const m = await repo.getMerchant(db, id);
      if (!m) throw new DomainError('not_found', 'merchant_not_found', `no merchant ${id}`);
      if (m.status === 'closed') throw new DomainError('conflict', 'merchant_closed', 'This merchant is closed: closing is final, it cannot be reactivated or suspended again.', { merchant: id });
      return m;
    },

    async closeMerchant(id, by) {
      return db.transaction(
        async (tx) => {
          const m = await repo.lockMerchant(tx, id);
          if (!m) throw new DomainError('not_found', 'merchant_not_found', `no merchant ${id}`);
          if (m.status === 'closed') return m;
          if (m.status !== 'suspended') {
            throw new DomainError('conflict', 'merchant_not_suspended', 'Only a suspended merchant can be closed: suspend it first.', { merchant: id, status: m.status });
          }
          if (!closureBlockers) throw new DomainError('unavailable', 'settlement_unavailable', 'merchants cannot be closed on a platform without settlement');
          const blockers = await closureBlockers(tx, id);
          // An open run is said first: while it holds the money the payable may read zero, and the
          // way on is to mark the run sent or returned.
          if (blockers.openPayoutRuns.length > 0) {
            throw new DomainError('conflict', 'payout_open', 'A payout run holding money of this merchant is not yet sent or returned: finish it before closing the merchant.', {
              merchant: id,
              payout_runs: blockers.openPayoutRuns,
            });
          }
          if (blockers.balances.length > 0) {
            throw new DomainError('conflict', 'merchant_balance_not_zero', 'The merchant is still owed money, or owes it: its settlement balance must be zero before it is closed.', {
              merchant: id,
              balances: blockers.balances,
            });
          }
          const at = clock.now().getTime();
          await repo.closeMerchant(tx, id, by, at);
          return { ...m, status: 'closed' as const, closedAt: at, closedBy: by };
        },
        { serializable: true },
      );
    },

    async assertNotClosed(id) {
      if ((await repo.merchantStatus(db, id)) === 'closed') throw new DomainError('conflict', 'merchant_closed', 'This merchant is closed: nothing new can be made for it.', { merchant: id });
    },

    async assertActive(id) {
      const status = await repo.merchantStatus(db, id);
      if (status === undefined) throw new DomainError('not_found', 'merchant_not_found', `no merchant ${id}`);
      if (status !== 'active') throw refusal(id, status);
    },

    async createStore(merchantId, { name, metadata }) {
      const s: Store = {
        id: ids.next('store'),
        merchantId,
        name: checkName(name, 'store'),
        metadata: metadata ?? {},
        createdAt: clock.now().getTime(),
      };
      await repo.insertStore(db, s);
      return s;
    },

    getStore,

    async assertStoreOfMerchant(merchantId, storeId) {
      if (storeOwner.get(storeId) === merchantId) return;
      await getStore(merchantId, storeId);
      storeOwner.set(storeId, merchantId);
    },

    async listStores(merchantId, q = {}) {
      const limit = pageLimit(q.limit);
      return toPage(await repo.listStores(db, merchantId, q.cursor, limit + 1), limit);
    },

    async createApiKey(merchantId, input = {}) {
      const mode = input.mode ?? 'test';
      const scopes = input.scopes ?? ['*'];
      if (scopes.length === 0 || scopes.some((s) => !(SCOPES as readonly string[]).includes(s))) {
        throw new DomainError('invalid', 'scopes_invalid', `scopes must be some of ${SCOPES.join(', ')}`);
      }
      const secret = newSecret(mode);
      const key: ApiKey = {
        id: ids.next('key'),
        merchantId,
        name: input.name === undefined ? 'default' : checkName(input.name, 'key'),
        mode,
        scopes,
        last4: secret.slice(-4),
        revokedAt: null,
        createdAt: clock.now().getTime(),
      };
      await repo.insertKey(db, key, hashSecret(secret));
      return { key, secret };
    },

    async listApiKeys(merchantId, q = {}) {
      const limit = pageLimit(q.limit);
      return toPage(await repo.listKeys(db, merchantId, q.cursor, limit + 1), limit);
    },

    async revokeApiKey(merchantId, keyId) {
      await repo.revokeKey(db, merchantId, keyId, clock.now().getTime());
      const k = await repo.getKey(db, merchantId, keyId);
      if (!k) throw new DomainError('not_found', 'api_key_not_found', `no API key ${keyId}`);
      return k;
    },

    async authenticate(secret) {
      if (!/^sk_(test|live)_[A-Za-z0-9]{20,100}$/.test(secret)) {
        throw new DomainError('unauthorized', 'api_key_invalid', 'the API key is not valid');
      }
      const k = await repo.keyByHash(db, hashSecret(secret));
      if (!k) throw new DomainError('unauthorized', 'api_key_invalid', 'the API key is not valid');
      if (k.revokedAt !== null) throw new DomainError('unauthorized', 'api_key_revoked', 'the API key has been revoked');
      if (k.merchantStatus !== 'active') throw refusal(k.merchantId, k.merchantStatus);
      return { merchantId: k.merchantId, keyId: k.id, mode: k.mode, scopes: k.scopes };
    },
  };
}

/**
 * Whether the scopes allow `needed` (`area:lookup`, `area:read` or `area:write`): write includes
 * read, and read includes lookup (the same records without the personal fields in them).
 */
export function hasScope(scopes: readonly string[], needed: string): boolean {
  if (scopes.includes('*') || scopes.includes(needed)) return true;
  const [area, level] = needed.split(':');
  if (level === 'read') return scopes.includes(`${area}:write`);
  if (level === 'lookup') return scopes.includes(`${area}:read`) || scopes.includes(`${area}:write`);
  return false;
}
