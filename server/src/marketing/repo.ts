import { type Db, type SqlExecutor, asDb } from '../storage/index.ts';

export interface CampaignRow {
  id: string;
  merchant_id: string;
  name: string;
  status: string;
  trigger_kind: string;
  audience: string;
  reward: string;
  currency: string;
  valid_from: number;
  valid_to: number;
  coupon_days: number | null;
  max_discount: number | null;
  max_coupons: number | null;
  per_member_limit: number;
  holdout_percent: number;
  message_title: string | null;
  message_body: string | null;
  issued_count: number;
  discount_used: number;
  created_at: number;
}

export interface CouponRow {
  id: string;
  campaign_id: string;
  merchant_id: string;
  member_id: string;
  reward: string;
  currency: string;
  valid_from: number;
  valid_to: number;
  status: string;
  issued_at: number;
  source_payment_id: string | null;
  redeemed_payment_id: string | null;
  redeemed_at: number | null;
}

export interface RedemptionRow {
  payment_id: string;
  coupon_id: string;
  campaign_id: string;
  merchant_id: string;
  member_id: string;
  discount: number;
  basket_amount: number;
  currency: string;
  at: number;
  reversed_at: number | null;
}

export interface InboxRow {
  id: string;
  shopper_id: string;
  merchant_id: string;
  kind: string;
  title: string;
  body: string;
  coupon_id: string | null;
  payment_id: string | null;
  amount: number | null;
  /** What a coupon took off a receipt's payment; 0 on other items. */
  discount: number;
  currency: string | null;
  created_at: number;
  read_at: number | null;
}

export interface ExposureRow {
  campaign_id: string;
  member_id: string;
  grp: string;
  at: number;
}

const CAMPAIGN_COLS = [
  'id', 'merchant_id', 'name', 'status', 'trigger_kind', 'audience', 'reward', 'currency', 'valid_from', 'valid_to', 'coupon_days',
  'max_discount', 'max_coupons', 'per_member_limit', 'holdout_percent', 'message_title', 'message_body', 'issued_count',
  'discount_used', 'created_at',
] as const;

const COUPON_COLS = [
  'id', 'campaign_id', 'merchant_id', 'member_id', 'reward', 'currency', 'valid_from', 'valid_to', 'status', 'issued_at',
  'source_payment_id', 'redeemed_payment_id', 'redeemed_at',
] as const;

const INBOX_COLS = [
  'id', 'shopper_id', 'merchant_id', 'kind', 'title', 'body', 'coupon_id', 'payment_id', 'amount', 'discount', 'currency', 'created_at', 'read_at',
] as const;

function insertSql(table: string, cols: readonly string[], tail = ''): string {
  return `INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})${tail}`;
}

/** The only place the marketing module writes SQL. */
export class MarketingRepo {
  constructor(private readonly db: Db) {}

  /** The executor under this repository (the transaction's, inside one), for event sinks that write in the same transaction. */
  get executor(): SqlExecutor {
    return this.db;
  }

  transaction<T>(fn: (repo: MarketingRepo) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) => fn(new MarketingRepo(asDb(tx))));
  }

  async insertCampaign(row: CampaignRow): Promise<void> {
    await this.db.execute(insertSql('campaigns', CAMPAIGN_COLS), CAMPAIGN_COLS.map((c) => row[c]));
  }

  async campaign(id: string, lock = false): Promise<CampaignRow | undefined> {
    return (await this.db.query<CampaignRow>(`SELECT * FROM campaigns WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [id]))[0];
  }

  async campaignsOf(merchantId: string): Promise<CampaignRow[]> {
    return this.db.query<CampaignRow>('SELECT * FROM campaigns WHERE merchant_id = $1 ORDER BY created_at DESC, id DESC', [merchantId]);
  }

  async liveCampaigns(trigger: string, merchantId: string | null, at: number): Promise<CampaignRow[]> {
    const base = "SELECT * FROM campaigns WHERE status = 'active' AND trigger_kind = $1 AND valid_from <= $2 AND valid_to > $2";
    return merchantId === null
      ? this.db.query<CampaignRow>(`${base} ORDER BY merchant_id, id`, [trigger, at])
      : this.db.query<CampaignRow>(`${base} AND merchant_id = $3 ORDER BY id`, [trigger, at, merchantId]);
  }

  async setCampaignStatus(id: string, status: string): Promise<void> {
    await this.db.execute('UPDATE campaigns SET status = $2 WHERE id = $1', [id, status]);
  }

  async addIssued(id: string): Promise<void> {
    await this.db.execute('UPDATE campaigns SET issued_count = issued_count + 1 WHERE id = $1', [id]);
  }

  async addDiscountUsed(id: string, delta: number): Promise<void> {
    await this.db.execute('UPDATE campaigns SET discount_used = discount_used + $2 WHERE id = $1', [id, delta]);
  }

  /** The group a member was first assigned to; inserting again keeps the first assignment. */
  async expose(row: ExposureRow): Promise<void> {
    await this.db.execute('INSERT INTO campaign_exposures (campaign_id, member_id, grp, at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [
      row.campaign_id,
      row.member_id,
      row.grp,
      row.at,
    ]);
  }

  async exposures(campaignId: string): Promise<ExposureRow[]> {
    return this.db.query<ExposureRow>('SELECT * FROM campaign_exposures WHERE campaign_id = $1 ORDER BY member_id', [campaignId]);
  }

  async insertCoupon(row: CouponRow): Promise<boolean> {
    const r = await this.db.execute(insertSql('coupons', COUPON_COLS, ' ON CONFLICT DO NOTHING'), COUPON_COLS.map((c) => row[c]));
    return r.changes === 1;
  }

  async coupon(id: string, lock = false): Promise<CouponRow | undefined> {
    return (await this.db.query<CouponRow>(`SELECT * FROM coupons WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [id]))[0];
  }

  async couponsOfMember(merchantId: string, memberId: string, onlyIssued = false): Promise<CouponRow[]> {
    return this.db.query<CouponRow>(
      `SELECT * FROM coupons WHERE merchant_id = $1 AND member_id = $2${onlyIssued ? " AND status = 'issued'" : ''} ORDER BY issued_at, id`,
      [merchantId, memberId],
    );
  }

  /** Some of a merchant's coupons with their campaign's name. */
  async couponCampaigns(merchantId: string, ids: readonly string[]): Promise<{ id: string; campaign_id: string; campaign_name: string }[]> {
    if (ids.length === 0) return [];
    return this.db.query<{ id: string; campaign_id: string; campaign_name: string }>(
      `SELECT c.id, c.campaign_id, k.name AS campaign_name FROM coupons c JOIN campaigns k ON k.id = c.campaign_id
        WHERE c.merchant_id = $1 AND c.id IN (${ids.map((_, i) => `$${i + 2}`).join(', ')})`,
      [merchantId, ...ids],
    );
  }

  async memberCampaignCoupons(campaignId: string, memberId: string): Promise<CouponRow[]> {
    return this.db.query<CouponRow>('SELECT * FROM coupons WHERE campaign_id = $1 AND member_id = $2', [campaignId, memberId]);
  }

  async campaignCoupons(campaignId: string): Promise<CouponRow[]> {
    return this.db.query<CouponRow>('SELECT * FROM coupons WHERE campaign_id = $1', [campaignId]);
  }

  async setCouponStatus(id: string, status: string, paymentId: string | null, at: number | null): Promise<void> {
    await this.db.execute('UPDATE coupons SET status = $2, redeemed_payment_id = $3, redeemed_at = $4 WHERE id = $1', [id, status, paymentId, at]);
  }

  async voidUnused(merchantId: string, memberId: string): Promise<number> {
    const r = await this.db.execute("UPDATE coupons SET status = 'void' WHERE merchant_id = $1 AND member_id = $2 AND status = 'issued'", [
      merchantId,
      memberId,
    ]);
    return r.changes;
  }

  async redemption(paymentId: string, lock = false): Promise<RedemptionRow | undefined> {
    return (await this.db.query<RedemptionRow>(`SELECT * FROM redemptions WHERE payment_id = $1${lock ? ' FOR UPDATE' : ''}`, [paymentId]))[0];
  }

  async insertRedemption(row: RedemptionRow): Promise<boolean> {
    const r = await this.db.execute(
      `INSERT INTO redemptions (payment_id, coupon_id, campaign_id, merchant_id, member_id, discount, basket_amount, currency, at, reversed_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING`,
      [row.payment_id, row.coupon_id, row.campaign_id, row.merchant_id, row.member_id, row.discount, row.basket_amount, row.currency, row.at, row.reversed_at],
    );
    return r.changes === 1;
  }

  async reverseRedemption(paymentId: string, at: number): Promise<void> {
    await this.db.execute('UPDATE redemptions SET reversed_at = $2 WHERE payment_id = $1', [paymentId, at]);
  }

  async campaignRedemptions(campaignId: string): Promise<RedemptionRow[]> {
    return this.db.query<RedemptionRow>('SELECT * FROM redemptions WHERE campaign_id = $1', [campaignId]);
  }

  async insertInbox(row: InboxRow): Promise<boolean> {
    const r = await this.db.execute(insertSql('inbox_items', INBOX_COLS, ' ON CONFLICT DO NOTHING'), INBOX_COLS.map((c) => row[c]));
    return r.changes === 1;
  }

  /** Newest first, strictly after the cursor (created_at, id) when given. */
  async inbox(shopperId: string, limit: number, before?: { at: number; id: string }): Promise<InboxRow[]> {
    if (before === undefined)
      return this.db.query<InboxRow>('SELECT * FROM inbox_items WHERE shopper_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2', [shopperId, limit]);
    return this.db.query<InboxRow>(
      `SELECT * FROM inbox_items WHERE shopper_id = $1 AND (created_at < $2 OR (created_at = $2 AND id < $3))
       ORDER BY created_at DESC, id DESC LIMIT $4`,
      [shopperId, before.at, before.id, limit],
    );
  }

  async hasInboxItem(shopperId: string, itemId: string): Promise<boolean> {
    return (await this.db.query('SELECT 1 FROM inbox_items WHERE id = $1 AND shopper_id = $2', [itemId, shopperId])).length > 0;
  }

  async markRead(shopperId: string, itemId: string, at: number): Promise<boolean> {
    const r = await this.db.execute('UPDATE inbox_items SET read_at = $3 WHERE id = $2 AND shopper_id = $1 AND read_at IS NULL', [shopperId, itemId, at]);
    return r.changes === 1;
  }

  async deleteShopperData(shopperId: string): Promise<void> {
    await this.db.execute('DELETE FROM inbox_items WHERE shopper_id = $1', [shopperId]);
    await this.db.execute('DELETE FROM merchant_mutes WHERE shopper_id = $1', [shopperId]);
  }

  async mute(shopperId: string, merchantId: string, at: number): Promise<void> {
    await this.db.execute('INSERT INTO merchant_mutes (shopper_id, merchant_id, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [shopperId, merchantId, at]);
  }

  async unmute(shopperId: string, merchantId: string): Promise<void> {
    await this.db.execute('DELETE FROM merchant_mutes WHERE shopper_id = $1 AND merchant_id = $2', [shopperId, merchantId]);
  }

  async isMuted(shopperId: string, merchantId: string): Promise<boolean> {
    return (await this.db.query('SELECT 1 FROM merchant_mutes WHERE shopper_id = $1 AND merchant_id = $2', [shopperId, merchantId])).length > 0;
  }

  async mutes(shopperId: string): Promise<{ merchant_id: string; at: number }[]> {
    return this.db.query('SELECT merchant_id, at FROM merchant_mutes WHERE shopper_id = $1 ORDER BY at, merchant_id', [shopperId]);
  }

  async insertMessage(row: { id: string; merchant_id: string; audience: string; title: string; body: string; sent_at: number; recipients: number; muted: number }): Promise<void> {
    await this.db.execute(
      'INSERT INTO marketing_messages (id, merchant_id, audience, title, body, sent_at, recipients, muted) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
      [row.id, row.merchant_id, row.audience, row.title, row.body, row.sent_at, row.recipients, row.muted],
    );
  }

  /** Redemptions not reversed, per time bucket, for the merchant dashboard. */
  async redemptionsByBucket(merchantId: string, from: number, to: number, bucketMs: number): Promise<{ bucket: number; count: number; discount: number }[]> {
    const rows = await this.db.query<{ b: number; n: number; discount: number }>(
      `SELECT CAST(at / $4 AS BIGINT) AS b, COUNT(*) AS n, SUM(discount) AS discount FROM redemptions
       WHERE merchant_id = $1 AND reversed_at IS NULL AND at >= $2 AND at < $3 GROUP BY 1`,
      [merchantId, from, to, bucketMs],
    );
    return rows.map((r) => ({ bucket: Number(r.b) * bucketMs, count: Number(r.n), discount: Number(r.discount) }));
  }
}
