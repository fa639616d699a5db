import type { SqlExecutor } from '../storage/index.ts';

export type AccountKind = 'staff' | 'shopper' | 'operator';

/** The only place the resets module writes SQL. */
export const resetRepo = {
  async insert(x: SqlExecutor, r: { tokenHash: string; kind: AccountKind; accountId: string; now: number; expiresAt: number }): Promise<void> {
    await x.execute('INSERT INTO password_resets (token_hash, account_kind, account_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)', [
      r.tokenHash,
      r.kind,
      r.accountId,
      r.now,
      r.expiresAt,
    ]);
  },
  async find(x: SqlExecutor, tokenHash: string, kind: AccountKind): Promise<{ accountId: string; expiresAt: number; usedAt: number | null } | undefined> {
    const [r] = await x.query<{ account_id: string; expires_at: number | string; used_at: number | string | null }>(
      'SELECT account_id, expires_at, used_at FROM password_resets WHERE token_hash = $1 AND account_kind = $2',
      [tokenHash, kind],
    );
    return r && { accountId: r.account_id, expiresAt: Number(r.expires_at), usedAt: r.used_at === null ? null : Number(r.used_at) };
  },
  /** Spends the token, once: false if it was already used or has expired (a concurrent use lost). */
  async use(x: SqlExecutor, tokenHash: string, now: number): Promise<boolean> {
    const r = await x.execute('UPDATE password_resets SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2', [tokenHash, now]);
    return r.changes === 1;
  },
  /** The account's other links stop working once one of them has been used. */
  async spendOthers(x: SqlExecutor, kind: AccountKind, accountId: string, now: number): Promise<void> {
    await x.execute('UPDATE password_resets SET used_at = $3 WHERE account_kind = $1 AND account_id = $2 AND used_at IS NULL', [kind, accountId, now]);
  },
};
