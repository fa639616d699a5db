import type { Row, SqlExecutor } from '../storage/index.ts';
import type { Delivery, DeliveryAttempt, WebhookEndpoint, WebhookEvent } from './webhook-types.ts';

const toEndpoint = (r: Row): WebhookEndpoint => ({
  id: r.id as string,
  merchantId: r.merchant_id as string,
  url: r.url as string,
  events: JSON.parse(r.events as string) as string[],
  disabled: Number(r.disabled) === 1,
  mode: r.mode as WebhookEndpoint['mode'],
  createdAt: Number(r.created_at),
});
const toEvent = (r: Row): WebhookEvent => ({
  id: r.id as string,
  merchantId: r.merchant_id as string,
  mode: r.mode as WebhookEvent['mode'],
  type: r.type as string,
  objectId: r.object_id as string,
  data: JSON.parse(r.data as string) as Record<string, unknown>,
  createdAt: Number(r.created_at),
});
const toDelivery = (r: Row): Delivery => ({
  id: r.id as string,
  merchantId: r.merchant_id as string,
  endpointId: r.endpoint_id as string,
  eventId: r.event_id as string,
  status: r.status as Delivery['status'],
  attempts: Number(r.attempts),
  nextAttemptAt: r.next_attempt_at === null ? null : Number(r.next_attempt_at),
  lastStatusCode: r.last_status_code === null ? null : Number(r.last_status_code),
  lastError: (r.last_error as string | null) ?? null,
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
});
const toAttempt = (r: Row): DeliveryAttempt => ({
  id: r.id as string,
  deliveryId: r.delivery_id as string,
  attemptedAt: Number(r.attempted_at),
  statusCode: r.status_code === null ? null : Number(r.status_code),
  error: (r.error as string | null) ?? null,
  durationMs: Number(r.duration_ms),
});

const PAGE = '(CAST($2 AS TEXT) IS NULL OR id < $2)';

export const webhookRepo = {
  async insertEvent(x: SqlExecutor, e: WebhookEvent): Promise<void> {
    await x.execute(
      'INSERT INTO events (id, merchant_id, type, object_id, data, dispatched, created_at, mode) VALUES ($1, $2, $3, $4, $5, 0, $6, $7)',
      [e.id, e.merchantId, e.type, e.objectId, JSON.stringify(e.data), e.createdAt, e.mode],
    );
  },
  async getEvent(x: SqlExecutor, merchantId: string, mode: WebhookEvent['mode'], id: string): Promise<WebhookEvent | undefined> {
    const [r] = await x.query('SELECT * FROM events WHERE id = $1 AND merchant_id = $2 AND mode = $3', [id, merchantId, mode]);
    return r ? toEvent(r) : undefined;
  },
  async listEvents(x: SqlExecutor, merchantId: string, mode: WebhookEvent['mode'], objectId: string | undefined, cursor: string | undefined, limit: number): Promise<WebhookEvent[]> {
    const rows = await x.query(
      `SELECT * FROM events WHERE merchant_id = $1 AND mode = $5 AND ${PAGE} AND (CAST($4 AS TEXT) IS NULL OR object_id = $4) ORDER BY id DESC LIMIT $3`,
      [merchantId, cursor ?? null, limit, objectId ?? null, mode],
    );
    return rows.map(toEvent);
  },
  /** Both counts read partial indexes (events_undispatched, webhook_deliveries_due), so they stay cheap. */
  async backlog(x: SqlExecutor): Promise<{ undispatchedEvents: number; pendingDeliveries: number }> {
    const [e] = await x.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM events WHERE dispatched = 0');
    const [d] = await x.query<{ n: number | string }>("SELECT COUNT(*) AS n FROM webhook_deliveries WHERE status = 'pending'");
    return { undispatchedEvents: Number(e?.n ?? 0), pendingDeliveries: Number(d?.n ?? 0) };
  },
  async undispatched(x: SqlExecutor, limit: number): Promise<WebhookEvent[]> {
    return (await x.query('SELECT * FROM events WHERE dispatched = 0 ORDER BY id LIMIT $1', [limit])).map(toEvent);
  },
  async markDispatched(x: SqlExecutor, id: string): Promise<boolean> {
    return (await x.execute('UPDATE events SET dispatched = 1 WHERE id = $1 AND dispatched = 0', [id])).changes === 1;
  },
  async insertEndpoint(x: SqlExecutor, e: WebhookEndpoint, secret: string): Promise<void> {
    await x.execute(
      'INSERT INTO webhook_endpoints (id, merchant_id, url, secret, events, disabled, created_at, mode) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
      [e.id, e.merchantId, e.url, secret, JSON.stringify(e.events), e.disabled ? 1 : 0, e.createdAt, e.mode],
    );
  },
  async getEndpoint(x: SqlExecutor, merchantId: string, mode: WebhookEndpoint['mode'], id: string): Promise<(WebhookEndpoint & { secret: string }) | undefined> {
    const [r] = await x.query('SELECT * FROM webhook_endpoints WHERE id = $1 AND merchant_id = $2 AND mode = $3', [id, merchantId, mode]);
    return r ? { ...toEndpoint(r), secret: r.secret as string } : undefined;
  },
  async activeEndpoints(x: SqlExecutor, merchantId: string, mode: WebhookEndpoint['mode']): Promise<WebhookEndpoint[]> {
    return (await x.query('SELECT * FROM webhook_endpoints WHERE merchant_id = $1 AND mode = $2 AND disabled = 0', [merchantId, mode])).map(toEndpoint);
  },
  async listEndpoints(x: SqlExecutor, merchantId: string, mode: WebhookEndpoint['mode'], cursor: string | undefined, limit: number): Promise<WebhookEndpoint[]> {
    const rows = await x.query(`SELECT * FROM webhook_endpoints WHERE merchant_id = $1 AND mode = $4 AND ${PAGE} ORDER BY id DESC LIMIT $3`, [
      merchantId,
      cursor ?? null,
      limit,
      mode,
    ]);
    return rows.map(toEndpoint);
  },
  async setEndpointDisabled(x: SqlExecutor, merchantId: string, mode: WebhookEndpoint['mode'], id: string, disabled: boolean): Promise<void> {
    await x.execute('UPDATE webhook_endpoints SET disabled = $3 WHERE id = $1 AND merchant_id = $2 AND mode = $4', [id, merchantId, disabled ? 1 : 0, mode]);
  },
  async insertDelivery(x: SqlExecutor, d: Delivery): Promise<void> {
    await x.execute(
      `INSERT INTO webhook_deliveries (id, merchant_id, endpoint_id, event_id, status, attempts, next_attempt_at, last_status_code, last_error, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, NULL, $8, $8)`,
      [d.id, d.merchantId, d.endpointId, d.eventId, d.status, d.attempts, d.nextAttemptAt, d.createdAt],
    );
  },
  async getDelivery(x: SqlExecutor, merchantId: string, mode: WebhookEndpoint['mode'], id: string): Promise<Delivery | undefined> {
    const [r] = await x.query(
      'SELECT d.* FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id WHERE d.id = $1 AND d.merchant_id = $2 AND e.mode = $3',
      [id, merchantId, mode],
    );
    return r ? toDelivery(r) : undefined;
  },
  async listDeliveries(
    x: SqlExecutor,
    merchantId: string,
    mode: WebhookEndpoint['mode'],
    f: { endpointId?: string | undefined; eventId?: string | undefined },
    cursor: string | undefined,
    limit: number,
  ): Promise<Delivery[]> {
    const rows = await x.query(
      `SELECT d.* FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
       WHERE d.merchant_id = $1 AND e.mode = $6 AND (CAST($2 AS TEXT) IS NULL OR d.id < $2)
         AND (CAST($4 AS TEXT) IS NULL OR d.endpoint_id = $4) AND (CAST($5 AS TEXT) IS NULL OR d.event_id = $5)
       ORDER BY d.id DESC LIMIT $3`,
      [merchantId, cursor ?? null, limit, f.endpointId ?? null, f.eventId ?? null, mode],
    );
    return rows.map(toDelivery);
  },
  /**
   * Due deliveries, at most `perMerchant` of each merchant (its oldest), taken round robin: the
   * first of every merchant, then the second of every merchant, and so on. A merchant with a
   * thousand deliveries queued for a dead endpoint cannot push another merchant's out of the list.
   */
  async dueDeliveriesFair(x: SqlExecutor, now: number, perMerchant: number, limit: number): Promise<Delivery[]> {
    const rows = await x.query(
      `SELECT * FROM (
         SELECT d.*, ROW_NUMBER() OVER (PARTITION BY merchant_id ORDER BY next_attempt_at, id) AS merchant_rank
         FROM webhook_deliveries d WHERE status = 'pending' AND next_attempt_at <= $1
       ) ranked WHERE merchant_rank <= $2 ORDER BY merchant_rank, next_attempt_at, id LIMIT $3`,
      [now, perMerchant, limit],
    );
    return rows.map(toDelivery);
  },
  /** Moves the endpoint's other pending deliveries that are due before `until` to `until` (per-endpoint back-off). */
  async deferEndpoint(x: SqlExecutor, endpointId: string, exceptId: string, until: number): Promise<void> {
    await x.execute(
      "UPDATE webhook_deliveries SET next_attempt_at = $3 WHERE endpoint_id = $1 AND id <> $2 AND status = 'pending' AND next_attempt_at < $3",
      [endpointId, exceptId, until],
    );
  },
  /** Takes a due delivery for one worker by pushing its next attempt out; false when another worker took it first. */
  async claim(x: SqlExecutor, id: string, expectedNext: number, leaseUntil: number): Promise<boolean> {
    const r = await x.execute(
      "UPDATE webhook_deliveries SET next_attempt_at = $3 WHERE id = $1 AND status = 'pending' AND next_attempt_at = $2",
      [id, expectedNext, leaseUntil],
    );
    return r.changes === 1;
  },
  async finishAttempt(x: SqlExecutor, d: Delivery, a: DeliveryAttempt): Promise<void> {
    await x.execute('INSERT INTO webhook_attempts (id, delivery_id, attempted_at, status_code, error, duration_ms) VALUES ($1, $2, $3, $4, $5, $6)', [
      a.id,
      a.deliveryId,
      a.attemptedAt,
      a.statusCode,
      a.error,
      a.durationMs,
    ]);
    await x.execute(
      'UPDATE webhook_deliveries SET status = $2, attempts = $3, next_attempt_at = $4, last_status_code = $5, last_error = $6, updated_at = $7 WHERE id = $1',
      [d.id, d.status, d.attempts, d.nextAttemptAt, d.lastStatusCode, d.lastError, d.updatedAt],
    );
  },
  async requeue(x: SqlExecutor, merchantId: string, id: string, now: number): Promise<void> {
    await x.execute(
      "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $3, updated_at = $3 WHERE id = $1 AND merchant_id = $2",
      [id, merchantId, now],
    );
  },
  async attempts(x: SqlExecutor, deliveryId: string): Promise<DeliveryAttempt[]> {
    return (await x.query('SELECT * FROM webhook_attempts WHERE delivery_id = $1 ORDER BY id', [deliveryId])).map(toAttempt);
  },
  async endpointSecret(x: SqlExecutor, id: string): Promise<{ url: string; secret: string } | undefined> {
    const [r] = await x.query<{ url: string; secret: string }>('SELECT url, secret FROM webhook_endpoints WHERE id = $1', [id]);
    return r;
  },
  async eventById(x: SqlExecutor, id: string): Promise<WebhookEvent | undefined> {
    const [r] = await x.query('SELECT * FROM events WHERE id = $1', [id]);
    return r ? toEvent(r) : undefined;
  },
};
