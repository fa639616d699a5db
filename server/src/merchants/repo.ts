import type { Row, SqlExecutor } from '../storage/index.ts';
import type { ApiKey, Merchant, Store } from './types.ts';

const toMerchant = (r: Row): Merchant => ({
  id: r.id as string,
  name: r.name as string,
  status: (r.status as Merchant['status'] | undefined) ?? 'active',
  createdAt: Number(r.created_at),
  closedAt: r.closed_at === null || r.closed_at === undefined ? null : Number(r.closed_at),
  closedBy: (r.closed_by as string | null | undefined) ?? null,
});
const MERCHANT_COLUMNS = 'id, name, status, created_at, closed_at, closed_by';
const toStore = (r: Row): Store => ({
  id: r.id as string,
  merchantId: r.merchant_id as string,
  name: r.name as string,
  metadata: JSON.parse(r.metadata as string) as Record<string, string>,
  createdAt: Number(r.created_at),
});
const toKey = (r: Row): ApiKey => ({
  id: r.id as string,
  merchantId: r.merchant_id as string,
  name: r.name as string,
  mode: r.mode as ApiKey['mode'],
  scopes: JSON.parse(r.scopes as string) as string[],
  last4: r.last4 as string,
  revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
  createdAt: Number(r.created_at),
});

/** A page query: newest first, ids below the cursor. */
const PAGE = '(CAST($2 AS TEXT) IS NULL OR id < $2) ORDER BY id DESC LIMIT $3';

export const merchantRepo = {
  async insertMerchant(x: SqlExecutor, m: Merchant): Promise<void> {
    await x.execute('INSERT INTO merchants (id, name, status, created_at) VALUES ($1, $2, $3, $4)', [m.id, m.name, m.status, m.createdAt]);
  },
  async getMerchant(x: SqlExecutor, id: string): Promise<Merchant | undefined> {
    const [r] = await x.query(`SELECT ${MERCHANT_COLUMNS} FROM merchants WHERE id = $1`, [id]);
    return r ? toMerchant(r) : undefined;
  },
  /** The merchant, its row locked until the transaction ends (PostgreSQL; SQLite's transactions are serial). */
  async lockMerchant(x: SqlExecutor, id: string): Promise<Merchant | undefined> {
    const [r] = await x.query(`SELECT ${MERCHANT_COLUMNS} FROM merchants WHERE id = $1 FOR UPDATE`, [id]);
    return r ? toMerchant(r) : undefined;
  },
  async closeMerchant(x: SqlExecutor, id: string, by: string, at: number): Promise<void> {
    await x.execute("UPDATE merchants SET status = 'closed', status_changed_at = $3, closed_at = $3, closed_by = $2 WHERE id = $1 AND status = 'suspended'", [id, by, at]);
  },
  /** Every merchant, newest first, ids below the cursor; optionally only those of one status. */
  async listMerchants(x: SqlExecutor, q: { status?: string; cursor?: string; limit: number }): Promise<Merchant[]> {
    return (
      await x.query(
        `SELECT ${MERCHANT_COLUMNS} FROM merchants WHERE (CAST($1 AS TEXT) IS NULL OR status = $1) AND (CAST($2 AS TEXT) IS NULL OR id < $2) ORDER BY id DESC LIMIT $3`,
        [q.status ?? null, q.cursor ?? null, q.limit],
      )
    ).map(toMerchant);
  },
  async setMerchantStatus(x: SqlExecutor, id: string, status: Merchant['status'], at: number): Promise<void> {
    // A closed merchant stays closed: only closeMerchant sets that status, and nothing leaves it.
    await x.execute("UPDATE merchants SET status = $2, status_changed_at = $3 WHERE id = $1 AND status <> $2 AND status <> 'closed'", [id, status, at]);
  },
  async merchantStatus(x: SqlExecutor, id: string): Promise<Merchant['status'] | undefined> {
    const [r] = await x.query<{ status: Merchant['status'] }>('SELECT status FROM merchants WHERE id = $1', [id]);
    return r?.status;
  },
  async countMerchants(x: SqlExecutor): Promise<number> {
    const [r] = await x.query<{ n: number }>('SELECT COUNT(*) AS n FROM merchants');
    return Number(r?.n ?? 0);
  },
  async insertStore(x: SqlExecutor, s: Store): Promise<void> {
    await x.execute('INSERT INTO stores (id, merchant_id, name, metadata, created_at) VALUES ($1, $2, $3, $4, $5)', [
      s.id,
      s.merchantId,
      s.name,
      JSON.stringify(s.metadata),
      s.createdAt,
    ]);
  },
  async getStore(x: SqlExecutor, merchantId: string, id: string): Promise<Store | undefined> {
    const [r] = await x.query('SELECT * FROM stores WHERE id = $1 AND merchant_id = $2', [id, merchantId]);
    return r ? toStore(r) : undefined;
  },
  async listStores(x: SqlExecutor, merchantId: string, cursor: string | undefined, limit: number): Promise<Store[]> {
    return (await x.query(`SELECT * FROM stores WHERE merchant_id = $1 AND ${PAGE}`, [merchantId, cursor ?? null, limit])).map(toStore);
  },
  async insertKey(x: SqlExecutor, k: ApiKey, secretHash: string): Promise<void> {
    await x.execute(
      'INSERT INTO api_keys (id, merchant_id, name, mode, scopes, secret_hash, last4, revoked_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, $8)',
      [k.id, k.merchantId, k.name, k.mode, JSON.stringify(k.scopes), secretHash, k.last4, k.createdAt],
    );
  },
  async keyByHash(x: SqlExecutor, secretHash: string): Promise<(ApiKey & { merchantStatus: Merchant['status'] }) | undefined> {
    // The merchant's status comes along: a suspended merchant's keys are refused without a second query.
    const [r] = await x.query('SELECT k.*, m.status AS merchant_status FROM api_keys k JOIN merchants m ON m.id = k.merchant_id WHERE k.secret_hash = $1', [secretHash]);
    return r ? { ...toKey(r), merchantStatus: r.merchant_status as Merchant['status'] } : undefined;
  },
  async getKey(x: SqlExecutor, merchantId: string, id: string): Promise<ApiKey | undefined> {
    const [r] = await x.query('SELECT * FROM api_keys WHERE id = $1 AND merchant_id = $2', [id, merchantId]);
    return r ? toKey(r) : undefined;
  },
  async listKeys(x: SqlExecutor, merchantId: string, cursor: string | undefined, limit: number): Promise<ApiKey[]> {
    return (await x.query(`SELECT * FROM api_keys WHERE merchant_id = $1 AND ${PAGE}`, [merchantId, cursor ?? null, limit])).map(toKey);
  },
  async revokeKey(x: SqlExecutor, merchantId: string, id: string, at: number): Promise<void> {
    await x.execute('UPDATE api_keys SET revoked_at = $3 WHERE id = $1 AND merchant_id = $2 AND revoked_at IS NULL', [id, merchantId, at]);
  },
};
