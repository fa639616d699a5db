import { type Db, type SqlExecutor, asDb } from '../storage/index.ts';

export interface ShopperRow {
  id: string;
  email: string;
  password_hash: string;
  name: string;
  phone: string | null;
  created_at: number;
  face_pay_enabled: number;
  always_ask_digits: number;
  per_payment_limit: number | null;
  face_enrolled_at: number | null;
  /** The face-pay PIN's scrypt hash; null until the shopper sets one. Absent from rows made before it existed. */
  face_pay_pin_hash?: string | null;
  /** When the shopper deleted the account; absent from rows made before it existed. */
  deleted_at?: number | null;
}

export interface ConsentRow {
  id: string;
  shopper_id: string;
  kind: string;
  text_version: string;
  accepted_at: number;
  withdrawn_at: number | null;
}

export type SettingsPatch = Partial<
  Pick<ShopperRow, 'name' | 'phone' | 'face_pay_enabled' | 'always_ask_digits' | 'per_payment_limit' | 'face_enrolled_at'>
>;

const SETTABLE = ['name', 'phone', 'face_pay_enabled', 'always_ask_digits', 'per_payment_limit', 'face_enrolled_at'] as const;

/** The only place the shoppers module writes SQL. */
export class ShopperRepo {
  constructor(private readonly db: Db) {}

  transaction<T>(fn: (repo: ShopperRepo) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) => fn(new ShopperRepo(asDb(tx))));
  }

  /** False when the e-mail is already taken. */
  async insert(row: ShopperRow): Promise<boolean> {
    const existing = await this.db.query('SELECT 1 FROM shoppers WHERE email = $1', [row.email]);
    if (existing.length > 0) return false;
    await this.db.execute(
      `INSERT INTO shoppers (id, email, password_hash, name, phone, created_at, face_pay_enabled, always_ask_digits, per_payment_limit, face_enrolled_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [row.id, row.email, row.password_hash, row.name, row.phone, row.created_at, row.face_pay_enabled, row.always_ask_digits, row.per_payment_limit, row.face_enrolled_at],
    );
    return true;
  }

  async byId(id: string): Promise<ShopperRow | undefined> {
    return (await this.db.query<ShopperRow>('SELECT * FROM shoppers WHERE id = $1', [id]))[0];
  }

  async setPinHash(id: string, hash: string | null): Promise<void> {
    await this.db.execute('UPDATE shoppers SET face_pay_pin_hash = $2 WHERE id = $1', [id, hash]);
  }

  async byPhone(phone: string): Promise<ShopperRow[]> {
    return this.db.query<ShopperRow>('SELECT * FROM shoppers WHERE phone = $1 ORDER BY created_at, id LIMIT 20', [phone]);
  }

  async byEmail(email: string): Promise<ShopperRow | undefined> {
    return (await this.db.query<ShopperRow>('SELECT * FROM shoppers WHERE email = $1', [email]))[0];
  }

  async update(id: string, patch: SettingsPatch): Promise<void> {
    const keys = SETTABLE.filter((k) => k in patch);
    if (keys.length === 0) return;
    const sets = keys.map((k, i) => `${k} = $${i + 2}`).join(', ');
    await this.db.execute(`UPDATE shoppers SET ${sets} WHERE id = $1`, [id, ...keys.map((k) => patch[k] ?? null)]);
  }

  /** Face pay off if it was on, in one statement: of racing callers exactly one is told it was on. */
  async switchFacePayOff(id: string): Promise<boolean> {
    return (await this.db.execute('UPDATE shoppers SET face_pay_enabled = 0 WHERE id = $1 AND face_pay_enabled = 1', [id])).changes === 1;
  }

  async insertSession(tokenHash: string, shopperId: string, createdAt: number, expiresAt: number): Promise<void> {
    await this.db.execute(
      'INSERT INTO shopper_sessions (token_hash, shopper_id, created_at, expires_at) VALUES ($1, $2, $3, $4)',
      [tokenHash, shopperId, createdAt, expiresAt],
    );
  }

  async sessionShopper(tokenHash: string, now: number): Promise<string | undefined> {
    const rows = await this.db.query<{ shopper_id: string }>(
      'SELECT shopper_id FROM shopper_sessions WHERE token_hash = $1 AND expires_at > $2',
      [tokenHash, now],
    );
    return rows[0]?.shopper_id;
  }

  /** A new password hash, and every session of the shopper ends (a reset). */
  async setPasswordHash(id: string, hash: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.execute('UPDATE shoppers SET password_hash = $2 WHERE id = $1', [id, hash]);
      await tx.execute('DELETE FROM shopper_sessions WHERE shopper_id = $1', [id]);
    });
  }

  async deleteSession(tokenHash: string): Promise<void> {
    await this.db.execute('DELETE FROM shopper_sessions WHERE token_hash = $1', [tokenHash]);
  }

  async insertConsent(row: ConsentRow): Promise<void> {
    await this.db.execute(
      'INSERT INTO shopper_consents (id, shopper_id, kind, text_version, accepted_at, withdrawn_at) VALUES ($1, $2, $3, $4, $5, $6)',
      [row.id, row.shopper_id, row.kind, row.text_version, row.accepted_at, row.withdrawn_at],
    );
  }

  async activeConsent(shopperId: string, kind: string): Promise<ConsentRow | undefined> {
    const rows = await this.db.query<ConsentRow>(
      'SELECT * FROM shopper_consents WHERE shopper_id = $1 AND kind = $2 AND withdrawn_at IS NULL ORDER BY accepted_at DESC',
      [shopperId, kind],
    );
    return rows[0];
  }

  async consents(shopperId: string): Promise<ConsentRow[]> {
    return this.db.query<ConsentRow>('SELECT * FROM shopper_consents WHERE shopper_id = $1 ORDER BY accepted_at', [shopperId]);
  }

  async withdrawConsents(shopperId: string, kind: string, at: number): Promise<void> {
    await this.db.execute(
      'UPDATE shopper_consents SET withdrawn_at = $3 WHERE shopper_id = $1 AND kind = $2 AND withdrawn_at IS NULL',
      [shopperId, kind, at],
    );
  }

  async insertPayCode(codeHash: string, shopperId: string, createdAt: number, expiresAt: number): Promise<void> {
    await this.db.execute(
      'INSERT INTO shopper_pay_codes (code_hash, shopper_id, created_at, expires_at) VALUES ($1, $2, $3, $4)',
      [codeHash, shopperId, createdAt, expiresAt],
    );
  }

  /** Marks an unused, unexpired code used and answers its shopper; a second use finds nothing. */
  async payCodeShopper(codeHash: string, now: number): Promise<string | undefined> {
    const rows = await this.db.query<{ shopper_id: string }>(
      'SELECT shopper_id FROM shopper_pay_codes WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $2',
      [codeHash, now],
    );
    return rows[0]?.shopper_id;
  }

  /** Uses the code inside the caller's transaction (the payment's). */
  async consumePayCodeIn(x: SqlExecutor, codeHash: string, now: number): Promise<string | undefined> {
    const changed = await x.execute(
      'UPDATE shopper_pay_codes SET used_at = $2 WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $2',
      [codeHash, now],
    );
    if (changed.changes !== 1) return undefined;
    const rows = await x.query<{ shopper_id: string }>('SELECT shopper_id FROM shopper_pay_codes WHERE code_hash = $1', [codeHash]);
    return rows[0]?.shopper_id;
  }

  /**
   * Records the answer to an enrolment challenge; false when it was answered before. Answers older
   * than `forgetBefore` are no longer needed (their challenges expired long ago) and go.
   */
  async useEnrolmentChallenge(challengeId: string, shopperId: string, at: number, forgetBefore: number): Promise<boolean> {
    await this.db.execute('DELETE FROM shopper_enrolment_answers WHERE shopper_id = $1 AND at < $2', [shopperId, forgetBefore]);
    const r = await this.db.execute(
      'INSERT INTO shopper_enrolment_answers (challenge_id, shopper_id, at) VALUES ($1, $2, $3) ON CONFLICT (challenge_id) DO NOTHING',
      [challengeId, shopperId, at],
    );
    return r.changes === 1;
  }

  async enrolmentAnswersSince(shopperId: string, since: number): Promise<number> {
    const rows = await this.db.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM shopper_enrolment_answers WHERE shopper_id = $1 AND at >= $2', [
      shopperId,
      since,
    ]);
    return Number(rows[0]?.n ?? 0);
  }

  /**
   * The first step of deleting an account, one statement after another and each safe to repeat:
   * the account can no longer be signed into (the password hash becomes a value no password
   * matches), every session and pay code ends, face pay is off.
   */
  async closeAccount(id: string, at: number): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.execute(
        "UPDATE shoppers SET deleted_at = COALESCE(deleted_at, $2), password_hash = 'deleted', face_pay_enabled = 0, face_pay_pin_hash = NULL WHERE id = $1",
        [id, at],
      );
      await tx.execute('DELETE FROM shopper_sessions WHERE shopper_id = $1', [id]);
      await tx.execute('DELETE FROM shopper_pay_codes WHERE shopper_id = $1', [id]);
    });
  }

  /**
   * The last step: the personal fields are replaced by placeholders (the e-mail by one under the
   * reserved .invalid domain, unique by the id), enrolment answers go, consents stay as the record
   * of what was agreed and when, withdrawn.
   */
  async erasePersonal(id: string, at: number): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.execute(
        "UPDATE shoppers SET email = $2, name = 'Deleted account', phone = NULL, per_payment_limit = NULL, face_enrolled_at = NULL, always_ask_digits = 0 WHERE id = $1",
        [id, `deleted+${id}@deleted.invalid`],
      );
      await tx.execute('DELETE FROM shopper_enrolment_answers WHERE shopper_id = $1', [id]);
      await tx.execute('UPDATE shopper_consents SET withdrawn_at = $2 WHERE shopper_id = $1 AND withdrawn_at IS NULL', [id, at]);
    });
  }

  /** Open accounts with a face enrolled at or before `before` (the retention rule's candidates), oldest first, after the cursor. */
  async enrolledBefore(before: number, limit: number, after?: { at: number; id: string }): Promise<{ id: string; email: string; face_enrolled_at: number }[]> {
    const rows = await this.db.query<{ id: string; email: string; face_enrolled_at: number | string }>(
      `SELECT id, email, face_enrolled_at FROM shoppers WHERE face_enrolled_at IS NOT NULL AND face_enrolled_at <= $1 AND deleted_at IS NULL
       AND (face_enrolled_at > $3 OR (face_enrolled_at = $3 AND id > $4)) ORDER BY face_enrolled_at, id LIMIT $2`,
      [before, limit, after?.at ?? -1, after?.id ?? ''],
    );
    return rows.map((r) => ({ id: r.id, email: r.email, face_enrolled_at: Number(r.face_enrolled_at) }));
  }

  async insertEvent(id: string, shopperId: string, type: string, at: number): Promise<void> {
    await this.db.execute('INSERT INTO shopper_events (id, shopper_id, type, at) VALUES ($1, $2, $3, $4)', [id, shopperId, type, at]);
  }

  async events(shopperId: string): Promise<{ type: string; at: number }[]> {
    return this.db.query('SELECT type, at FROM shopper_events WHERE shopper_id = $1 ORDER BY at, id', [shopperId]);
  }
}
