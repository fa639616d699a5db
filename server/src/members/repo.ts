import { type Db, type SqlExecutor, asDb } from '../storage/index.ts';
import { MEMBER_FIELDS, type MemberField } from './rules.ts';

export interface ProgrammeRow {
  merchant_id: string;
  name: string;
  benefits: string;
  fields: string;
  currency: string;
  time_zone: string;
  created_at: number;
  updated_at: number;
}

export interface MemberRow {
  id: string;
  merchant_id: string;
  shopper_id: string;
  joined_at: number;
  left_at: number | null;
  terminal_id: string | null;
  shared_fields: string;
  name: string | null;
  phone: string | null;
  birthday: string | null;
  gender: string | null;
  email: string | null;
  visits: number;
  spend: number;
  first_visit_at: number | null;
  last_visit_at: number | null;
}

export interface PurchaseRow {
  payment_id: string;
  merchant_id: string;
  member_id: string;
  store_id: string;
  amount: number;
  refunded: number;
  currency: string;
  at: number;
}

export interface ConsentRow {
  id: string;
  member_id: string;
  merchant_id: string;
  shopper_id: string;
  fields: string;
  text_version: string;
  terminal_id: string | null;
  accepted_at: number;
  withdrawn_at: number | null;
}

export interface DailyAggregateRow {
  day: string;
  currency: string;
  payments: number;
  amount: number;
}

/** The only place the members module writes SQL. */
export class MemberRepo {
  constructor(private readonly db: Db) {}

  /** The executor under this repository (the transaction's, inside one), for event sinks that write in the same transaction. */
  get executor(): SqlExecutor {
    return this.db;
  }

  transaction<T>(fn: (repo: MemberRepo) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) => fn(new MemberRepo(asDb(tx))));
  }

  async programme(merchantId: string): Promise<ProgrammeRow | undefined> {
    return (await this.db.query<ProgrammeRow>('SELECT * FROM member_programmes WHERE merchant_id = $1', [merchantId]))[0];
  }

  async upsertProgramme(row: ProgrammeRow): Promise<void> {
    await this.db.execute(
      `INSERT INTO member_programmes (merchant_id, name, benefits, fields, currency, time_zone, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (merchant_id) DO UPDATE SET name = $2, benefits = $3, fields = $4, currency = $5, time_zone = $6, updated_at = $8`,
      [row.merchant_id, row.name, row.benefits, row.fields, row.currency, row.time_zone, row.created_at, row.updated_at],
    );
  }

  /** False when the shopper already holds a live membership of this merchant. */
  async insertMember(row: MemberRow): Promise<boolean> {
    const r = await this.db.execute(
      `INSERT INTO members (id, merchant_id, shopper_id, joined_at, left_at, terminal_id, shared_fields, name, phone, birthday, gender, email, visits, spend, first_visit_at, last_visit_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) ON CONFLICT DO NOTHING`,
      [
        row.id, row.merchant_id, row.shopper_id, row.joined_at, row.left_at, row.terminal_id, row.shared_fields,
        row.name, row.phone, row.birthday, row.gender, row.email, row.visits, row.spend, row.first_visit_at, row.last_visit_at,
      ],
    );
    return r.changes === 1;
  }

  async member(id: string): Promise<MemberRow | undefined> {
    return (await this.db.query<MemberRow>('SELECT * FROM members WHERE id = $1', [id]))[0];
  }

  async liveMember(merchantId: string, shopperId: string): Promise<MemberRow | undefined> {
    return (
      await this.db.query<MemberRow>('SELECT * FROM members WHERE merchant_id = $1 AND shopper_id = $2 AND left_at IS NULL', [
        merchantId,
        shopperId,
      ])
    )[0];
  }

  async liveMembershipsOf(shopperId: string): Promise<MemberRow[]> {
    return this.db.query<MemberRow>('SELECT * FROM members WHERE shopper_id = $1 AND left_at IS NULL ORDER BY joined_at, id', [shopperId]);
  }

  async membersOf(merchantId: string): Promise<MemberRow[]> {
    return this.db.query<MemberRow>('SELECT * FROM members WHERE merchant_id = $1', [merchantId]);
  }

  /** Leaving wipes every shared field in the same statement that marks the membership left. */
  async markLeft(memberId: string, at: number): Promise<boolean> {
    const r = await this.db.execute(
      `UPDATE members SET left_at = $2, shared_fields = '', name = NULL, phone = NULL, birthday = NULL, gender = NULL, email = NULL
       WHERE id = $1 AND left_at IS NULL`,
      [memberId, at],
    );
    return r.changes === 1;
  }

  async updateSharedFields(memberId: string, fields: readonly MemberField[], values: Partial<Record<MemberField, string>>): Promise<void> {
    const sets = MEMBER_FIELDS.map((f, i) => `${f} = $${i + 3}`).join(', ');
    await this.db.execute(`UPDATE members SET shared_fields = $2, ${sets} WHERE id = $1 AND left_at IS NULL`, [
      memberId,
      fields.join(','),
      ...MEMBER_FIELDS.map((f) => (fields.includes(f) ? (values[f] ?? null) : null)),
    ]);
  }

  /** Cuts the link from a deleted shopper account to their former memberships and consent records. */
  async eraseShopper(shopperId: string): Promise<void> {
    await this.db.execute("UPDATE members SET shopper_id = 'erased' WHERE shopper_id = $1 AND left_at IS NOT NULL", [shopperId]);
    await this.db.execute("UPDATE member_consents SET shopper_id = 'erased' WHERE shopper_id = $1 AND withdrawn_at IS NOT NULL", [shopperId]);
  }

  async insertConsent(row: ConsentRow): Promise<void> {
    await this.db.execute(
      `INSERT INTO member_consents (id, member_id, merchant_id, shopper_id, fields, text_version, terminal_id, accepted_at, withdrawn_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [row.id, row.member_id, row.merchant_id, row.shopper_id, row.fields, row.text_version, row.terminal_id, row.accepted_at, row.withdrawn_at],
    );
  }

  async withdrawConsents(memberId: string, at: number): Promise<void> {
    await this.db.execute('UPDATE member_consents SET withdrawn_at = $2 WHERE member_id = $1 AND withdrawn_at IS NULL', [memberId, at]);
  }

  async consents(memberId: string): Promise<ConsentRow[]> {
    return this.db.query<ConsentRow>('SELECT * FROM member_consents WHERE member_id = $1 ORDER BY accepted_at, id', [memberId]);
  }

  async tagsOf(memberId: string): Promise<string[]> {
    return (await this.db.query<{ tag: string }>('SELECT tag FROM member_tags WHERE member_id = $1 ORDER BY tag', [memberId])).map((r) => r.tag);
  }

  async tagsByMember(merchantId: string): Promise<Map<string, string[]>> {
    const rows = await this.db.query<{ member_id: string; tag: string }>(
      'SELECT member_id, tag FROM member_tags WHERE merchant_id = $1 ORDER BY tag',
      [merchantId],
    );
    const out = new Map<string, string[]>();
    for (const r of rows) {
      const list = out.get(r.member_id);
      if (list) list.push(r.tag);
      else out.set(r.member_id, [r.tag]);
    }
    return out;
  }

  async addTag(merchantId: string, memberId: string, tag: string): Promise<void> {
    await this.db.execute('INSERT INTO member_tags (member_id, merchant_id, tag) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [memberId, merchantId, tag]);
  }

  async removeTag(memberId: string, tag: string): Promise<void> {
    await this.db.execute('DELETE FROM member_tags WHERE member_id = $1 AND tag = $2', [memberId, tag]);
  }

  /**
   * For one member's figures, how many of the merchant's visiting members are strictly below on
   * each: the ranks RFM needs, in one scan of the merchant's members instead of loading them.
   */
  async rankCounts(merchantId: string, lastVisitAt: number, visits: number, spend: number): Promise<{ n: number; r: number; f: number; m: number }> {
    const row = (
      await this.db.query<{ n: number; r: number | null; f: number | null; m: number | null }>(
        `SELECT COUNT(*) AS n,
                SUM(CASE WHEN last_visit_at < $2 THEN 1 ELSE 0 END) AS r,
                SUM(CASE WHEN visits < $3 THEN 1 ELSE 0 END) AS f,
                SUM(CASE WHEN spend < $4 THEN 1 ELSE 0 END) AS m
         FROM members WHERE merchant_id = $1 AND visits > 0 AND last_visit_at IS NOT NULL`,
        [merchantId, lastVisitAt, visits, spend],
      )
    )[0];
    return { n: Number(row?.n ?? 0), r: Number(row?.r ?? 0), f: Number(row?.f ?? 0), m: Number(row?.m ?? 0) };
  }

  async purchase(paymentId: string): Promise<PurchaseRow | undefined> {
    return (await this.db.query<PurchaseRow>('SELECT * FROM member_purchases WHERE payment_id = $1', [paymentId]))[0];
  }

  /** False when the payment was already recorded (a retry). */
  /** Which of these payments are a member's purchase at this merchant, and whose. */
  async purchaseMembers(merchantId: string, paymentIds: readonly string[]): Promise<{ payment_id: string; member_id: string }[]> {
    if (paymentIds.length === 0) return [];
    return this.db.query<{ payment_id: string; member_id: string }>(
      `SELECT payment_id, member_id FROM member_purchases WHERE merchant_id = $1 AND payment_id IN (${paymentIds.map((_, i) => `$${i + 2}`).join(', ')})`,
      [merchantId, ...paymentIds],
    );
  }

  async insertPurchase(row: PurchaseRow): Promise<boolean> {
    const r = await this.db.execute(
      `INSERT INTO member_purchases (payment_id, merchant_id, member_id, store_id, amount, refunded, currency, at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
      [row.payment_id, row.merchant_id, row.member_id, row.store_id, row.amount, row.refunded, row.currency, row.at],
    );
    return r.changes === 1;
  }

  async insertPurchases(rows: readonly PurchaseRow[]): Promise<number> {
    let n = 0;
    for (const row of rows) if (await this.insertPurchase(row)) n++;
    return n;
  }

  /** Recomputes a member's lifetime figures from the purchases: a visit is a purchase not fully refunded. */
  async refreshStats(memberId: string, currency: string): Promise<void> {
    const s = (
      await this.db.query<{ visits: number; spend: number | null; first_at: number | null; last_at: number | null }>(
        `SELECT COUNT(*) AS visits, SUM(amount - refunded) AS spend, MIN(at) AS first_at, MAX(at) AS last_at
         FROM member_purchases WHERE member_id = $1 AND currency = $2 AND amount > refunded`,
        [memberId, currency],
      )
    )[0];
    await this.db.execute('UPDATE members SET visits = $2, spend = $3, first_visit_at = $4, last_visit_at = $5 WHERE id = $1', [
      memberId,
      Number(s?.visits ?? 0),
      Number(s?.spend ?? 0),
      s?.first_at ?? null,
      s?.last_at ?? null,
    ]);
  }

  async purchasesOf(memberId: string, limit?: number): Promise<PurchaseRow[]> {
    if (limit === undefined)
      return this.db.query<PurchaseRow>('SELECT * FROM member_purchases WHERE member_id = $1 ORDER BY at DESC, payment_id DESC', [memberId]);
    return this.db.query<PurchaseRow>('SELECT * FROM member_purchases WHERE member_id = $1 ORDER BY at DESC, payment_id DESC LIMIT $2', [
      memberId,
      limit,
    ]);
  }

  /** Net amounts of the merchant's member purchases in [from, to) in one currency: only what spend windows need. */
  async netSpendBetween(merchantId: string, from: number, to: number, currency: string): Promise<{ member_id: string; at: number; net: number }[]> {
    return this.db.query(
      'SELECT member_id, at, amount - refunded AS net FROM member_purchases WHERE merchant_id = $1 AND at >= $2 AND at < $3 AND currency = $4',
      [merchantId, from, to, currency],
    );
  }

  async insertRefund(refundId: string, paymentId: string, amount: number, at: number): Promise<boolean> {
    const r = await this.db.execute(
      'INSERT INTO member_refunds (refund_id, payment_id, amount, at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
      [refundId, paymentId, amount, at],
    );
    return r.changes === 1;
  }

  async lockPurchase(paymentId: string): Promise<PurchaseRow | undefined> {
    return (await this.db.query<PurchaseRow>('SELECT * FROM member_purchases WHERE payment_id = $1 FOR UPDATE', [paymentId]))[0];
  }

  async addPurchaseRefund(paymentId: string, amount: number): Promise<void> {
    await this.db.execute('UPDATE member_purchases SET refunded = refunded + $2 WHERE payment_id = $1', [paymentId, amount]);
  }

  async insertNonmemberPayment(row: { payment_id: string; merchant_id: string; day: string; amount: number; currency: string }): Promise<boolean> {
    const r = await this.db.execute(
      `INSERT INTO nonmember_payments (payment_id, merchant_id, day, amount, refunded, currency)
       VALUES ($1, $2, $3, $4, 0, $5) ON CONFLICT DO NOTHING`,
      [row.payment_id, row.merchant_id, row.day, row.amount, row.currency],
    );
    return r.changes === 1;
  }

  async lockNonmemberPayment(paymentId: string): Promise<{ amount: number; refunded: number; merchant_id: string } | undefined> {
    return (
      await this.db.query<{ amount: number; refunded: number; merchant_id: string }>(
        'SELECT amount, refunded, merchant_id FROM nonmember_payments WHERE payment_id = $1 FOR UPDATE',
        [paymentId],
      )
    )[0];
  }

  async addNonmemberRefund(paymentId: string, amount: number): Promise<void> {
    await this.db.execute('UPDATE nonmember_payments SET refunded = refunded + $2 WHERE payment_id = $1', [paymentId, amount]);
  }

  async nonmemberDaily(merchantId: string, fromDay: string, toDay: string): Promise<DailyAggregateRow[]> {
    const rows = await this.db.query<DailyAggregateRow>(
      `SELECT day, currency, COUNT(*) AS payments, SUM(amount - refunded) AS amount FROM nonmember_payments
       WHERE merchant_id = $1 AND day >= $2 AND day <= $3 AND amount > refunded GROUP BY day, currency ORDER BY day, currency`,
      [merchantId, fromDay, toDay],
    );
    return rows.map((r) => ({ day: r.day, currency: r.currency, payments: Number(r.payments), amount: Number(r.amount) }));
  }

  /** Members who joined, per time bucket, for the merchant dashboard. */
  async joinedByBucket(merchantId: string, from: number, to: number, bucketMs: number): Promise<{ bucket: number; count: number }[]> {
    const rows = await this.db.query<{ b: number; n: number }>(
      `SELECT CAST(joined_at / $4 AS BIGINT) AS b, COUNT(*) AS n FROM members WHERE merchant_id = $1 AND joined_at >= $2 AND joined_at < $3 GROUP BY 1`,
      [merchantId, from, to, bucketMs],
    );
    return rows.map((r) => ({ bucket: Number(r.b) * bucketMs, count: Number(r.n) }));
  }

  /**
   * Members who bought in [from, to), and of them the returning ones: those who had bought before
   * `from` or bought more than once within it.
   */
  async returningBetween(merchantId: string, from: number, to: number): Promise<{ active: number; returning: number }> {
    const [r] = await this.db.query<{ active: number; returned: number }>(
      `SELECT COUNT(*) AS active, COALESCE(SUM(CASE WHEN inside > 1 OR earlier > 0 THEN 1 ELSE 0 END), 0) AS returned FROM (
         SELECT member_id, SUM(CASE WHEN at >= $2 THEN 1 ELSE 0 END) AS inside, SUM(CASE WHEN at < $2 THEN 1 ELSE 0 END) AS earlier
         FROM member_purchases WHERE merchant_id = $1 AND at < $3 GROUP BY member_id
       ) m WHERE inside > 0`,
      [merchantId, from, to],
    );
    return { active: Number(r?.active ?? 0), returning: Number(r?.returned ?? 0) };
  }
}
