import type { Db } from '../storage/index.ts';

export type AttemptState = 'challenged' | 'ask_digits' | 'ask_pin' | 'matched' | 'refused' | 'paid' | 'failed';

export interface AttemptRow {
  id: string;
  intent_id: string;
  merchant_id: string;
  store_id: string;
  terminal_id: string;
  method: 'face' | 'pay_code';
  challenge_id: string | null;
  challenge_kind: string | null;
  challenge_issued_at: number | null;
  challenge_expires_at: number | null;
  /** when the challenge's answer arrived (it is answered once) */
  challenge_used_at: number | null;
  expires_at: number;
  state: AttemptState;
  outcome: string | null;
  shopper_id: string | null;
  digits_tries_left: number;
  pin_tries_left: number;
  /** The risk engine's last choice for this attempt and its reasons (a JSON array of codes). */
  risk_choice: string | null;
  risk_reasons: string | null;
  /** The most a payment from this attempt may charge, set when it is matched. */
  max_amount: number | null;
  /**
   * The second factor that settled who this is, with the face ('digits' or 'pin'); null (or left
   * out when a row is made) for the face alone or a pay code.
   */
  second_factor?: 'digits' | 'pin' | null;
  /** The shoppers the gallery said the face could be when it asked for the digits (a JSON array of ids); null otherwise. */
  candidates?: string | null;
  coupon_id: string | null;
  payment_id: string | null;
  created_at: number;
  updated_at: number;
}

const COLUMNS = [
  'id', 'intent_id', 'merchant_id', 'store_id', 'terminal_id', 'method', 'challenge_id', 'challenge_kind',
  'challenge_issued_at', 'challenge_expires_at', 'challenge_used_at', 'expires_at', 'state', 'outcome', 'shopper_id', 'digits_tries_left', 'pin_tries_left', 'risk_choice', 'risk_reasons', 'max_amount', 'second_factor', 'candidates', 'coupon_id',
  'payment_id', 'created_at', 'updated_at',
] as const;

export type AttemptPatch = Partial<
  Pick<AttemptRow, 'state' | 'outcome' | 'shopper_id' | 'digits_tries_left' | 'pin_tries_left' | 'risk_choice' | 'risk_reasons' | 'max_amount' | 'second_factor' | 'candidates' | 'coupon_id' | 'payment_id' | 'updated_at'>
>;

type RiskColumn = 'pin_tries_left' | 'risk_choice' | 'risk_reasons' | 'max_amount';

/** The only place the facepay module writes SQL. */
export class AttemptRepo {
  constructor(private readonly db: Db) {}

  /** The risk engine's columns may be left out: they start empty (no decision yet, no PIN tries). */
  async insert(input: Omit<AttemptRow, RiskColumn> & Partial<Pick<AttemptRow, RiskColumn>>): Promise<void> {
    const row: AttemptRow = { pin_tries_left: 0, risk_choice: null, risk_reasons: null, max_amount: null, ...input };
    await this.db.execute(
      `INSERT INTO face_pay_attempts (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})`,
      COLUMNS.map((c) => row[c] ?? null),
    );
  }

  async get(id: string): Promise<AttemptRow | undefined> {
    return (await this.db.query<AttemptRow>('SELECT * FROM face_pay_attempts WHERE id = $1', [id]))[0];
  }

  async byPaymentId(paymentId: string): Promise<AttemptRow | undefined> {
    return (await this.db.query<AttemptRow>('SELECT * FROM face_pay_attempts WHERE payment_id = $1', [paymentId]))[0];
  }

  /**
   * Applies the patch only if the attempt is still in `from`: two requests racing on one attempt
   * (a retried capture, a double tap) cannot both move it.
   */
  async transition(id: string, from: readonly AttemptState[], patch: AttemptPatch): Promise<boolean> {
    const keys = Object.keys(patch) as (keyof AttemptPatch)[];
    const sets = keys.map((k, i) => `${k} = $${i + 2}`).join(', ');
    const states = from.map((_, i) => `$${keys.length + 2 + i}`).join(', ');
    const r = await this.db.execute(`UPDATE face_pay_attempts SET ${sets} WHERE id = $1 AND state IN (${states})`, [
      id,
      ...keys.map((k) => patch[k] ?? null),
      ...from,
    ]);
    return r.changes === 1;
  }

  /** Marks the attempt's challenge answered; false when an earlier request already did (one answer per challenge). */
  async useChallenge(id: string, at: number): Promise<boolean> {
    const r = await this.db.execute('UPDATE face_pay_attempts SET challenge_used_at = $2 WHERE id = $1 AND challenge_used_at IS NULL', [id, at]);
    return r.changes === 1;
  }

  /**
   * Takes one digit try from an attempt waiting for the digits, in one conditional UPDATE, and
   * returns how many tries remain after it, or undefined when none was left. Concurrent guesses
   * each need their own row change, so together they can never evaluate more than the attempt allows.
   */
  async takeDigitsTry(id: string, at: number): Promise<number | undefined> {
    const rows = await this.db.query<{ digits_tries_left: number }>(
      `UPDATE face_pay_attempts SET digits_tries_left = digits_tries_left - 1, updated_at = $2
       WHERE id = $1 AND state = 'ask_digits' AND digits_tries_left > 0 RETURNING digits_tries_left`,
      [id, at],
    );
    return rows[0] === undefined ? undefined : Number(rows[0].digits_tries_left);
  }

  /** Takes one PIN try from an attempt waiting for the PIN, exactly as `takeDigitsTry` does for the digits. */
  async takePinTry(id: string, at: number): Promise<number | undefined> {
    const rows = await this.db.query<{ pin_tries_left: number }>(
      `UPDATE face_pay_attempts SET pin_tries_left = pin_tries_left - 1, updated_at = $2
       WHERE id = $1 AND state = 'ask_pin' AND pin_tries_left > 0 RETURNING pin_tries_left`,
      [id, at],
    );
    return rows[0] === undefined ? undefined : Number(rows[0].pin_tries_left);
  }

  /**
   * The terminal's own count of one wrong factor, whoever it was for (a look-alike's digits are
   * charged to no shopper): a row with an empty shopper id, which no shopper's lockout counts.
   */
  async recordTerminalFailure(row: { id: string; attempt_id: string; terminal_id: string; factor: 'digits' | 'pin'; at: number }): Promise<void> {
    await this.db.execute(
      "INSERT INTO face_pay_failures (id, shopper_id, attempt_id, terminal_id, factor, at) VALUES ($1, '', $2, $3, $4, $5)",
      [row.id, row.attempt_id, row.terminal_id, row.factor, row.at],
    );
  }

  /** Wrong factors at this terminal (its own rows) and liveness failures there since `since`: the risk engine's terminal history. */
  async terminalFailuresSince(terminalId: string, since: number): Promise<number> {
    const r = await this.db.query<{ f: number; l: number }>(
      `SELECT (SELECT COUNT(*) FROM face_pay_failures WHERE terminal_id = $1 AND shopper_id = '' AND at >= $2) AS f,
              (SELECT COUNT(*) FROM face_pay_attempts WHERE terminal_id = $1 AND updated_at >= $2 AND outcome = 'liveness_failed') AS l`,
      [terminalId, since],
    );
    return Number(r[0]?.f ?? 0) + Number(r[0]?.l ?? 0);
  }

  /** Wrong factors charged to this shopper since `since`, and not cleared since. */
  async shopperFailuresSince(shopperId: string, since: number): Promise<number> {
    const r = await this.db.query<{ n: number }>('SELECT COUNT(*) AS n FROM face_pay_failures WHERE shopper_id = $1 AND at >= $2 AND cleared_at IS NULL', [
      shopperId,
      since,
    ]);
    return Number(r[0]?.n ?? 0);
  }

  /** Whether this shopper has paid this merchant at a terminal before (face or pay code). */
  async paidAtMerchant(shopperId: string, merchantId: string): Promise<boolean> {
    const r = await this.db.query("SELECT 1 AS one FROM face_pay_attempts WHERE shopper_id = $1 AND merchant_id = $2 AND state = 'paid' LIMIT 1", [shopperId, merchantId]);
    return r.length > 0;
  }

  /** The risk decision of the attempt that paid each of these intents, for the shopper's payment history. */
  async paidDecisions(intentIds: readonly string[]): Promise<Map<string, { choice: string; reasons: string[] }>> {
    const out = new Map<string, { choice: string; reasons: string[] }>();
    if (intentIds.length === 0) return out;
    const rows = await this.db.query<{ intent_id: string; risk_choice: string | null; risk_reasons: string | null }>(
      `SELECT intent_id, risk_choice, risk_reasons FROM face_pay_attempts WHERE state = 'paid' AND intent_id IN (${intentIds.map((_, i) => `$${i + 1}`).join(', ')})`,
      [...intentIds],
    );
    for (const r of rows) if (r.risk_choice !== null) out.set(r.intent_id, { choice: r.risk_choice, reasons: JSON.parse(r.risk_reasons ?? '[]') as string[] });
    return out;
  }

  async riskSettings(merchantId: string): Promise<Record<string, unknown> | undefined> {
    const r = (await this.db.query<{ settings: string }>('SELECT settings FROM face_pay_risk_settings WHERE merchant_id = $1', [merchantId]))[0];
    return r === undefined ? undefined : (JSON.parse(r.settings) as Record<string, unknown>);
  }

  async setRiskSettings(merchantId: string, settings: Record<string, unknown>, at: number): Promise<void> {
    await this.db.execute(
      `INSERT INTO face_pay_risk_settings (merchant_id, settings, updated_at) VALUES ($1, $2, $3)
       ON CONFLICT (merchant_id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at`,
      [merchantId, JSON.stringify(settings), at],
    );
  }

  /** Records one wrong second factor charged to a shopper and returns how many they have had since `since`, this one included. */
  async recordFailure(row: { id: string; shopper_id: string; attempt_id: string; terminal_id: string; factor: 'digits' | 'pin'; at: number }, since: number): Promise<number> {
    await this.db.execute(
      'INSERT INTO face_pay_failures (id, shopper_id, attempt_id, terminal_id, factor, at) VALUES ($1, $2, $3, $4, $5, $6)',
      [row.id, row.shopper_id, row.attempt_id, row.terminal_id, row.factor, row.at],
    );
    return this.shopperFailuresSince(row.shopper_id, since);
  }

  /** Stops counting the shopper's wrong factors so far (the rows stay, marked with when). The terminal's own rows are untouched. */
  async clearFailures(shopperId: string, at: number): Promise<void> {
    if (shopperId === '') return;
    await this.db.execute('UPDATE face_pay_failures SET cleared_at = $2 WHERE shopper_id = $1 AND cleared_at IS NULL', [shopperId, at]);
  }

  /** When each of these shoppers last paid by face (the retention rule's "last use" of a template). */
  async lastPaidByFace(shopperIds: readonly string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (let i = 0; i < shopperIds.length; i += 500) {
      const chunk = shopperIds.slice(i, i + 500);
      const rows = await this.db.query<{ shopper_id: string; at: number | string }>(
        `SELECT shopper_id, MAX(updated_at) AS at FROM face_pay_attempts WHERE state = 'paid' AND method = 'face'
         AND shopper_id IN (${chunk.map((_, j) => `$${j + 1}`).join(', ')}) GROUP BY shopper_id`,
        [...chunk],
      );
      for (const r of rows) out.set(r.shopper_id, Number(r.at));
    }
    return out;
  }

  /** How a paid intent was paid at the terminal (face or pay code); undefined when no attempt paid it (the API's test helpers). */
  async paidMethod(intentId: string): Promise<'face' | 'pay_code' | undefined> {
    const [r] = await this.db.query<{ method: 'face' | 'pay_code' }>("SELECT method FROM face_pay_attempts WHERE intent_id = $1 AND state = 'paid' LIMIT 1", [intentId]);
    return r?.method;
  }

  /** Paid attempts per time bucket and method (face or pay code), for the merchant dashboard. */
  async paidByMethod(merchantId: string, from: number, to: number, bucketMs: number): Promise<{ bucket: number; method: string; count: number }[]> {
    const rows = await this.db.query<{ b: number; method: string; n: number }>(
      `SELECT CAST(updated_at / $4 AS BIGINT) AS b, method, COUNT(DISTINCT intent_id) AS n FROM face_pay_attempts
       WHERE merchant_id = $1 AND state = 'paid' AND updated_at >= $2 AND updated_at < $3 GROUP BY 1, 2`,
      [merchantId, from, to, bucketMs],
    );
    return rows.map((r) => ({ bucket: Number(r.b) * bucketMs, method: r.method, count: Number(r.n) }));
  }
}
