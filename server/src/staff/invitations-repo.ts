import type { StaffRole } from '../merchants/index.ts';
import type { SqlExecutor } from '../storage/index.ts';

export interface InvitationRow {
  id: string;
  merchantId: string;
  email: string;
  role: StaffRole;
  invitedBy: string;
  createdAt: number;
  expiresAt: number;
  acceptedAt: number | null;
  voidedAt: number | null;
  staffId: string | null;
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const toRow = (r: Record<string, unknown>): InvitationRow => ({
  id: r.id as string,
  merchantId: r.merchant_id as string,
  email: r.email as string,
  role: r.role as StaffRole,
  invitedBy: r.invited_by as string,
  createdAt: Number(r.created_at),
  expiresAt: Number(r.expires_at),
  acceptedAt: num(r.accepted_at),
  voidedAt: num(r.voided_at),
  staffId: (r.staff_id as string | null) ?? null,
});

/** The only place invitations are written in SQL. */
export const invitationRepo = {
  async insert(x: SqlExecutor, r: InvitationRow, tokenHash: string): Promise<void> {
    await x.execute(
      `INSERT INTO staff_invitations (id, token_hash, merchant_id, email, role, invited_by, created_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [r.id, tokenHash, r.merchantId, r.email, r.role, r.invitedBy, r.createdAt, r.expiresAt],
    );
  },
  /** Voids the open invitations of this merchant and address (a newer one replaces them); expired ones stay as they are. */
  async voidOpen(x: SqlExecutor, merchantId: string, email: string, now: number): Promise<void> {
    await x.execute('UPDATE staff_invitations SET voided_at = $3 WHERE merchant_id = $1 AND email = $2 AND accepted_at IS NULL AND voided_at IS NULL AND expires_at > $3', [merchantId, email, now]);
  },
  async byTokenHash(x: SqlExecutor, tokenHash: string): Promise<InvitationRow | undefined> {
    const [r] = await x.query('SELECT * FROM staff_invitations WHERE token_hash = $1', [tokenHash]);
    return r ? toRow(r) : undefined;
  },
  async byId(x: SqlExecutor, id: string): Promise<InvitationRow | undefined> {
    const [r] = await x.query('SELECT * FROM staff_invitations WHERE id = $1', [id]);
    return r ? toRow(r) : undefined;
  },
  /** Spends the invitation, once: false if it was already used, voided or has expired (a concurrent accept lost). */
  async accept(x: SqlExecutor, tokenHash: string, staffId: string, now: number): Promise<boolean> {
    const r = await x.execute(
      'UPDATE staff_invitations SET accepted_at = $2, staff_id = $3 WHERE token_hash = $1 AND accepted_at IS NULL AND voided_at IS NULL AND expires_at > $2',
      [tokenHash, now, staffId],
    );
    return r.changes === 1;
  },
  async voidOne(x: SqlExecutor, merchantId: string, id: string, now: number): Promise<void> {
    await x.execute('UPDATE staff_invitations SET voided_at = $3 WHERE id = $1 AND merchant_id = $2 AND accepted_at IS NULL AND voided_at IS NULL', [id, merchantId, now]);
  },
  async list(x: SqlExecutor, merchantId: string): Promise<InvitationRow[]> {
    return (await x.query('SELECT * FROM staff_invitations WHERE merchant_id = $1 ORDER BY created_at DESC, id DESC LIMIT 100', [merchantId])).map(toRow);
  },
};
