import type { Db } from '../storage/index.ts';

export type OperatorRole = 'desk' | 'admin';

export interface OperatorRow {
  id: string;
  email: string;
  name: string;
  role: OperatorRole;
  credit_cap: number | null;
  daily_cap: number | null;
  password_hash: string;
  created_at: number;
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const toRow = (r: Record<string, unknown>): OperatorRow => ({
  ...(r as unknown as OperatorRow),
  credit_cap: num(r.credit_cap),
  daily_cap: num(r.daily_cap),
  created_at: Number(r.created_at),
});

/** The only place the operator module writes SQL. */
export class OperatorRepo {
  constructor(private readonly db: Db) {}

  /** False when the e-mail is taken. */
  async insert(row: OperatorRow): Promise<boolean> {
    const r = await this.db.execute(
      `INSERT INTO operator_staff (id, email, name, role, credit_cap, daily_cap, password_hash, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
      [row.id, row.email, row.name, row.role, row.credit_cap, row.daily_cap, row.password_hash, row.created_at],
    );
    return r.changes === 1;
  }

  async byEmail(email: string): Promise<OperatorRow | undefined> {
    const [r] = await this.db.query('SELECT * FROM operator_staff WHERE email = $1', [email]);
    return r ? toRow(r) : undefined;
  }

  async byId(id: string): Promise<OperatorRow | undefined> {
    const [r] = await this.db.query('SELECT * FROM operator_staff WHERE id = $1', [id]);
    return r ? toRow(r) : undefined;
  }

  async list(): Promise<OperatorRow[]> {
    return (await this.db.query('SELECT * FROM operator_staff ORDER BY created_at, id')).map(toRow);
  }

  async insertSession(tokenHash: string, staffId: string, createdAt: number, expiresAt: number): Promise<void> {
    await this.db.execute('INSERT INTO operator_sessions (token_hash, staff_id, created_at, expires_at) VALUES ($1, $2, $3, $4)', [tokenHash, staffId, createdAt, expiresAt]);
  }

  async sessionStaff(tokenHash: string, now: number): Promise<OperatorRow | undefined> {
    const [r] = await this.db.query(
      'SELECT s.* FROM operator_sessions o JOIN operator_staff s ON s.id = o.staff_id WHERE o.token_hash = $1 AND o.expires_at > $2',
      [tokenHash, now],
    );
    return r ? toRow(r) : undefined;
  }

  async deleteSession(tokenHash: string): Promise<void> {
    await this.db.execute('DELETE FROM operator_sessions WHERE token_hash = $1', [tokenHash]);
  }

  /** A new password, and every session of that login ends with it (one transaction). */
  async setPassword(id: string, passwordHash: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.execute('UPDATE operator_staff SET password_hash = $2 WHERE id = $1', [id, passwordHash]);
      await tx.execute('DELETE FROM operator_sessions WHERE staff_id = $1', [id]);
    });
  }
}
