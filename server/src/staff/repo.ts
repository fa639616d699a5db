import { asDb, type Db } from '../storage/index.ts';
import type { StaffRole } from '../merchants/index.ts';

export interface StaffRow {
  id: string;
  merchant_id: string;
  email: string;
  name: string;
  role: StaffRole;
  refund_limit: number | null;
  password_hash: string;
  created_at: number;
  updated_at: number;
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const toRow = (r: Record<string, unknown>): StaffRow => ({
  ...(r as unknown as StaffRow),
  refund_limit: num(r.refund_limit),
  created_at: Number(r.created_at),
  updated_at: Number(r.updated_at),
});

function isUniqueViolation(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}

/** The only place the staff module writes SQL. */
export class StaffRepo {
  constructor(private readonly db: Db) {}

  transaction<T>(fn: (repo: StaffRepo) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) => fn(new StaffRepo(asDb(tx))));
  }

  /** False when the e-mail is taken. */
  async insert(row: StaffRow): Promise<boolean> {
    try {
      await this.db.execute(
        `INSERT INTO staff_members (id, merchant_id, email, name, role, refund_limit, password_hash, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [row.id, row.merchant_id, row.email, row.name, row.role, row.refund_limit, row.password_hash, row.created_at, row.updated_at],
      );
      return true;
    } catch (e) {
      if (isUniqueViolation(e)) return false;
      throw e;
    }
  }

  async byId(merchantId: string, id: string, lock = false): Promise<StaffRow | undefined> {
    const lockSql = lock && this.db.dialect === 'postgres' ? ' FOR UPDATE' : '';
    const [r] = await this.db.query(`SELECT * FROM staff_members WHERE id = $1 AND merchant_id = $2${lockSql}`, [id, merchantId]);
    return r ? toRow(r) : undefined;
  }

  async byEmail(email: string): Promise<StaffRow | undefined> {
    const [r] = await this.db.query('SELECT * FROM staff_members WHERE email = $1', [email]);
    return r ? toRow(r) : undefined;
  }

  async list(merchantId: string): Promise<StaffRow[]> {
    return (await this.db.query('SELECT * FROM staff_members WHERE merchant_id = $1 ORDER BY created_at, id', [merchantId])).map(toRow);
  }

  async countOwners(merchantId: string): Promise<number> {
    const [r] = await this.db.query<{ n: number }>(`SELECT COUNT(*) AS n FROM staff_members WHERE merchant_id = $1 AND role = 'owner'`, [merchantId]);
    return Number(r?.n ?? 0);
  }

  async countAll(merchantId: string): Promise<number> {
    const [r] = await this.db.query<{ n: number }>('SELECT COUNT(*) AS n FROM staff_members WHERE merchant_id = $1', [merchantId]);
    return Number(r?.n ?? 0);
  }

  async update(row: StaffRow): Promise<void> {
    await this.db.execute('UPDATE staff_members SET name = $2, role = $3, refund_limit = $4, password_hash = $5, updated_at = $6 WHERE id = $1', [
      row.id,
      row.name,
      row.role,
      row.refund_limit,
      row.password_hash,
      row.updated_at,
    ]);
  }

  async remove(id: string): Promise<void> {
    await this.db.execute('DELETE FROM staff_sessions WHERE staff_id = $1', [id]);
    await this.db.execute('DELETE FROM staff_members WHERE id = $1', [id]);
  }

  async insertSession(tokenHash: string, staffId: string, createdAt: number, expiresAt: number): Promise<void> {
    await this.db.execute('INSERT INTO staff_sessions (token_hash, staff_id, created_at, expires_at) VALUES ($1, $2, $3, $4)', [tokenHash, staffId, createdAt, expiresAt]);
  }

  /** The staff member of a live session. */
  async sessionStaff(tokenHash: string, now: number): Promise<StaffRow | undefined> {
    const [r] = await this.db.query(
      `SELECT m.* FROM staff_sessions s JOIN staff_members m ON m.id = s.staff_id WHERE s.token_hash = $1 AND s.expires_at > $2`,
      [tokenHash, now],
    );
    return r ? toRow(r) : undefined;
  }

  async deleteSession(tokenHash: string): Promise<void> {
    await this.db.execute('DELETE FROM staff_sessions WHERE token_hash = $1', [tokenHash]);
  }

  /** Ends every session of a staff member (after a password change), and expired ones of everybody. */
  async setPasswordHash(id: string, hash: string, now: number): Promise<void> {
    await this.db.execute('UPDATE staff_members SET password_hash = $2, updated_at = $3 WHERE id = $1', [id, hash, now]);
  }

  async deleteSessionsOf(staffId: string, now: number): Promise<void> {
    await this.db.execute('DELETE FROM staff_sessions WHERE staff_id = $1 OR expires_at <= $2', [staffId, now]);
  }
}
