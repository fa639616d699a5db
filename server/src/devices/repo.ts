import type { Db, SqlExecutor } from '../storage/index.ts';

export type TerminalStatus = 'pending' | 'active' | 'revoked';

export interface TerminalRow {
  id: string;
  merchant_id: string;
  store_id: string;
  label: string;
  status: TerminalStatus;
  algorithm: string | null;
  public_key_spki: string | null;
  key_thumbprint: string | null;
  created_at: number;
  activated_at: number | null;
  revoked_at: number | null;
  last_seen_at: number | null;
}

export interface ActivationCodeRow {
  code_hash: string;
  terminal_id: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

function isUniqueViolation(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}

/** The only place the devices module writes SQL. */
export class DeviceRepo {
  constructor(private readonly db: SqlExecutor & Partial<Pick<Db, 'transaction'>>) {}

  /** Runs fn in one transaction (or inside the one this repository already belongs to). */
  transaction<T>(fn: (repo: DeviceRepo) => Promise<T>): Promise<T> {
    if (this.db.transaction === undefined) return fn(this);
    return this.db.transaction((tx) => fn(new DeviceRepo(tx)));
  }

  async insertTerminal(row: TerminalRow): Promise<void> {
    await this.db.execute(
      `INSERT INTO device_terminals (id, merchant_id, store_id, label, status, algorithm, public_key_spki, key_thumbprint,
         created_at, activated_at, revoked_at, last_seen_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [
        row.id,
        row.merchant_id,
        row.store_id,
        row.label,
        row.status,
        row.algorithm,
        row.public_key_spki,
        row.key_thumbprint,
        row.created_at,
        row.activated_at,
        row.revoked_at,
        row.last_seen_at,
      ],
    );
  }

  async terminal(id: string, opts: { forUpdate?: boolean } = {}): Promise<TerminalRow | undefined> {
    const sql = `SELECT * FROM device_terminals WHERE id = $1${opts.forUpdate ? ' FOR UPDATE' : ''}`;
    return (await this.db.query<TerminalRow>(sql, [id]))[0];
  }

  async terminalsOfStore(merchantId: string, storeId: string): Promise<TerminalRow[]> {
    return this.db.query<TerminalRow>(
      'SELECT * FROM device_terminals WHERE merchant_id = $1 AND store_id = $2 ORDER BY created_at, id',
      [merchantId, storeId],
    );
  }

  /** The names of some of a merchant's terminals (another merchant's ids find nothing). */
  async labelsOf(merchantId: string, ids: readonly string[]): Promise<{ id: string; label: string }[]> {
    if (ids.length === 0) return [];
    return this.db.query<{ id: string; label: string }>(
      `SELECT id, label FROM device_terminals WHERE merchant_id = $1 AND id IN (${ids.map((_, i) => `$${i + 2}`).join(', ')})`,
      [merchantId, ...ids],
    );
  }

  async thumbprintInUse(thumbprint: string): Promise<boolean> {
    return (await this.db.query('SELECT 1 FROM device_terminals WHERE key_thumbprint = $1', [thumbprint])).length > 0;
  }

  /** Registers the key; 'key_in_use' when another terminal holds it (two activations raced with one key). */
  async activate(id: string, key: { algorithm: string; spki: string; thumbprint: string }, at: number): Promise<'ok' | 'not_pending' | 'key_in_use'> {
    try {
      const r = await this.db.execute(
        `UPDATE device_terminals SET status = 'active', algorithm = $2, public_key_spki = $3, key_thumbprint = $4, activated_at = $5
         WHERE id = $1 AND status = 'pending'`,
        [id, key.algorithm, key.spki, key.thumbprint, at],
      );
      return r.changes === 1 ? 'ok' : 'not_pending';
    } catch (e) {
      if (isUniqueViolation(e)) return 'key_in_use';
      throw e;
    }
  }

  async revoke(id: string, at: number): Promise<void> {
    await this.db.execute(`UPDATE device_terminals SET status = 'revoked', revoked_at = $2 WHERE id = $1 AND status <> 'revoked'`, [id, at]);
    // A code issued for a revoked terminal must not bring it back.
    await this.db.execute('UPDATE device_activation_codes SET used_at = $2 WHERE terminal_id = $1 AND used_at IS NULL', [id, at]);
  }

  /** Writes last-seen only when it moved by more than `resolutionMs`, so a busy terminal does not write on every request. */
  async touch(id: string, at: number, resolutionMs: number): Promise<void> {
    await this.db.execute(
      'UPDATE device_terminals SET last_seen_at = $2 WHERE id = $1 AND (last_seen_at IS NULL OR last_seen_at < $3)',
      [id, at, at - resolutionMs],
    );
  }

  async insertActivationCode(row: ActivationCodeRow): Promise<void> {
    await this.db.execute(
      'INSERT INTO device_activation_codes (code_hash, terminal_id, created_at, expires_at, used_at) VALUES ($1, $2, $3, $4, $5)',
      [row.code_hash, row.terminal_id, row.created_at, row.expires_at, row.used_at],
    );
  }

  /** Retires every unused code of a terminal (when a new one replaces them). */
  async retireActivationCodes(terminalId: string, at: number): Promise<void> {
    await this.db.execute('UPDATE device_activation_codes SET used_at = $2 WHERE terminal_id = $1 AND used_at IS NULL', [terminalId, at]);
  }

  async activationCode(codeHash: string, opts: { forUpdate?: boolean } = {}): Promise<ActivationCodeRow | undefined> {
    const sql = `SELECT * FROM device_activation_codes WHERE code_hash = $1${opts.forUpdate ? ' FOR UPDATE' : ''}`;
    return (await this.db.query<ActivationCodeRow>(sql, [codeHash]))[0];
  }

  /** Marks a code used; false when another request used it first. */
  async useActivationCode(codeHash: string, at: number): Promise<boolean> {
    const r = await this.db.execute('UPDATE device_activation_codes SET used_at = $2 WHERE code_hash = $1 AND used_at IS NULL', [codeHash, at]);
    return r.changes === 1;
  }

  /**
   * Records a nonce; false when this terminal already used it. The primary key decides, so two
   * API processes that see the same request at once cannot both accept it.
   */
  async recordNonce(terminalId: string, nonce: string, expiresAt: number): Promise<boolean> {
    const r = await this.db.execute(
      'INSERT INTO device_nonces (terminal_id, nonce, expires_at) VALUES ($1, $2, $3) ON CONFLICT (terminal_id, nonce) DO NOTHING',
      [terminalId, nonce, expiresAt],
    );
    return r.changes === 1;
  }

  /** How many nonces of this terminal are still inside the replay window. */
  async liveNonces(terminalId: string, now: number): Promise<number> {
    const rows = await this.db.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM device_nonces WHERE terminal_id = $1 AND expires_at >= $2', [terminalId, now]);
    return Number(rows[0]?.n ?? 0);
  }

  async pruneNonces(before: number): Promise<number> {
    return (await this.db.execute('DELETE FROM device_nonces WHERE expires_at < $1', [before])).changes;
  }
}
