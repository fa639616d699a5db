import { createHmac, timingSafeEqual } from 'node:crypto';
import { DomainError, type Clock, type IdGenerator, type Random } from '../platform/index.ts';
import type { Db, SqlExecutor } from '../storage/index.ts';
import { pageLimit, toPage } from './service.ts';
import type { Page, PageQuery } from './types.ts';
import type { Delivery, DeliveryAttempt, WebhookEndpoint, WebhookEvent, WebhookPoster } from './webhook-types.ts';
import { webhookRepo as repo } from './webhooks-repo.ts';
import { guardedPoster, resolvePublic, systemResolver, type Resolver } from './url-guard.ts';

export const SIGNATURE_HEADER = 'Facepay-Signature';

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, as Stripe signs: the timestamp stops replays. */
export function signPayload(secret: string, body: string, timestampSec: number): string {
  const mac = createHmac('sha256', secret).update(`${timestampSec}.${body}`).digest('hex');
  return `t=${timestampSec},v1=${mac}`;
}

/** For receivers (and tests): true when a `v1` signature matches and the timestamp is within tolerance. */
export function verifySignature(secret: string, header: string, body: string, nowSec: number, toleranceSec = 300): boolean {
  const parts = new Map<string, string[]>();
  for (const kv of header.split(',')) {
    const i = kv.indexOf('=');
    if (i < 0) continue;
    const k = kv.slice(0, i).trim();
    parts.set(k, [...(parts.get(k) ?? []), kv.slice(i + 1).trim()]);
  }
  const t = Number(parts.get('t')?.[0]);
  if (!Number.isSafeInteger(t) || Math.abs(nowSec - t) > toleranceSec) return false;
  const expected = Buffer.from(signPayload(secret, body, t).split('v1=')[1]!, 'hex');
  return (parts.get('v1') ?? []).some((sig) => {
    const got = Buffer.from(sig, 'hex');
    return got.length === expected.length && timingSafeEqual(got, expected);
  });
}

export interface RetryPolicy {
  /** Delay before the 2nd attempt; doubled for each one after. */
  baseMs: number;
  maxDelayMs: number;
  maxAttempts: number;
  /** How long one POST may take, connection included. */
  timeoutMs: number;
  /** Deliveries in flight at once, per process. */
  concurrency: number;
  /** Of those, at most this many for one merchant, so that its slow endpoints cannot take every slot. */
  perMerchant: number;
}

export const defaultRetry: RetryPolicy = { baseMs: 30_000, maxDelayMs: 6 * 3600_000, maxAttempts: 8, timeoutMs: 5_000, concurrency: 20, perMerchant: 4 };

/** Exponential back-off: base, 2 base, 4 base, ... capped; undefined once attempts are used up. */
export function nextDelay(policy: RetryPolicy, attemptsMade: number): number | undefined {
  if (attemptsMade >= policy.maxAttempts) return undefined;
  return Math.min(policy.baseMs * 2 ** (attemptsMade - 1), policy.maxDelayMs);
}

type Mode = 'test' | 'live';

export interface NewEvent {
  merchantId: string;
  /** Live unless said. */
  mode?: 'test' | 'live';
  type: string;
  objectId: string;
  data: Record<string, unknown>;
}

export interface WebhookService {
  /** Writes the event inside the caller's transaction: it is delivered only if the change commits. */
  record(tx: SqlExecutor, e: NewEvent): Promise<WebhookEvent>;
  /** `mode` (live when absent) is the caller's key's: the endpoint receives only that mode's events. */
  createEndpoint(merchantId: string, input: { url: string; events?: string[]; mode?: Mode }): Promise<{ endpoint: WebhookEndpoint; secret: string }>;
  /** Endpoints and deliveries of the other mode are not found, as events are. */
  getEndpoint(merchantId: string, id: string, opts?: { mode?: Mode }): Promise<WebhookEndpoint>;
  listEndpoints(merchantId: string, q?: PageQuery & { mode?: Mode }): Promise<Page<WebhookEndpoint>>;
  setEndpointDisabled(merchantId: string, id: string, disabled: boolean, opts?: { mode?: Mode }): Promise<WebhookEndpoint>;
  /** `mode` (live when absent) is the caller's: an event of the other mode is not found. */
  getEvent(merchantId: string, id: string, opts?: { mode?: 'test' | 'live' }): Promise<WebhookEvent>;
  listEvents(merchantId: string, q?: PageQuery & { objectId?: string; mode?: 'test' | 'live' }): Promise<Page<WebhookEvent>>;
  getDelivery(merchantId: string, id: string, opts?: { mode?: Mode }): Promise<Delivery & { attemptLog: DeliveryAttempt[] }>;
  listDeliveries(merchantId: string, q?: PageQuery & { endpointId?: string; eventId?: string; mode?: Mode }): Promise<Page<Delivery>>;
  /** Sends a delivery again now, whatever its state (a replay); the attempt count carries on. */
  retryDelivery(merchantId: string, id: string, opts?: { mode?: Mode }): Promise<Delivery>;
  /** One round of the worker: fans new events out to endpoints, then sends what is due and waits for those sends. */
  tick(): Promise<{ dispatched: number; attempted: number }>;
  /**
   * What the background worker does each interval: like `tick`, but it does not wait for the sends
   * it starts, so the next round fills the slots that are free while a slow endpoint still holds its own.
   */
  pump(onError: (e: unknown) => void): Promise<{ dispatched: number; started: number }>;
  start(intervalMs: number, onError: (e: unknown) => void): void;
  stop(): Promise<void>;
  /** Work waiting for the worker: events not yet fanned out and deliveries still to send (for /metrics). */
  backlog(): Promise<{ undispatchedEvents: number; pendingDeliveries: number }>;
}

export interface WebhookDeps {
  db: Db;
  clock: Clock;
  ids: IdGenerator;
  random: Random;
  poster?: WebhookPoster;
  retry?: Partial<RetryPolicy>;
  /** Allows http:// endpoints and loopback hosts (development and tests). */
  allowInsecureUrls?: boolean;
  /** Allows targets on loopback, private and link-local addresses (tests and development only). */
  allowPrivateTargets?: boolean;
  /** Host name resolution, checked at creation and at each delivery; the system's DNS by default. */
  resolver?: Resolver;
}

export function createWebhookService(deps: WebhookDeps): WebhookService {
  const { db, clock, ids, random } = deps;
  const resolver = deps.resolver ?? systemResolver;
  const allowPrivate = deps.allowPrivateTargets ?? false;
  const poster = deps.poster ?? guardedPoster({ allowPrivate, resolver });
  const policy: RetryPolicy = { ...defaultRetry, ...deps.retry };
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  /** Deliveries being sent by this process, and how many per merchant. */
  const inFlight = new Map<string, Promise<void>>();
  const merchantLoad = new Map<string, number>();

  function checkUrl(url: unknown): string {
    let u: URL;
    try {
      u = new URL(String(url));
    } catch {
      throw new DomainError('invalid', 'url_invalid', 'url must be an absolute URL');
    }
    if (u.protocol !== 'https:' && !(deps.allowInsecureUrls && u.protocol === 'http:')) {
      throw new DomainError('invalid', 'url_invalid', 'webhook urls must use https');
    }
    return u.toString();
  }

  async function checkTarget(url: unknown): Promise<string> {
    const checked = checkUrl(url);
    if (!allowPrivate) await resolvePublic(new URL(checked).hostname, resolver);
    return checked;
  }

  async function dispatch(): Promise<number> {
    return db.transaction(async (tx) => {
      const events = await repo.undispatched(tx, 100);
      const now = clock.now().getTime();
      for (const e of events) {
        if (!(await repo.markDispatched(tx, e.id))) continue;
        // A test event never reaches a live endpoint, nor a live event a test one.
        for (const ep of await repo.activeEndpoints(tx, e.merchantId, e.mode)) {
          // An endpoint receives what happens after it was registered, not the history before it.
          if (ep.createdAt > e.createdAt) continue;
          if (!ep.events.includes('*') && !ep.events.includes(e.type)) continue;
          await repo.insertDelivery(tx, {
            id: ids.next('whd'),
            merchantId: e.merchantId,
            endpointId: ep.id,
            eventId: e.id,
            status: 'pending',
            attempts: 0,
            nextAttemptAt: now,
            lastStatusCode: null,
            lastError: null,
            createdAt: now,
            updatedAt: now,
          });
        }
      }
      return events.length;
    });
  }

  async function attempt(d: Delivery): Promise<void> {
    const now = clock.now().getTime();
    if (!(await repo.claim(db, d.id, d.nextAttemptAt!, now + policy.timeoutMs * 2))) return;
    const target = await repo.endpointSecret(db, d.endpointId);
    const event = await repo.eventById(db, d.eventId);
    if (!target || !event) return;
    const body = JSON.stringify({
      id: event.id,
      object: 'event',
      type: event.type,
      created: event.createdAt,
      data: { object: event.data },
    });
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'Facepay-Webhooks/1',
      [SIGNATURE_HEADER.toLowerCase()]: signPayload(target.secret, body, Math.floor(now / 1000)),
    };
    const started = Date.now();
    let status: number | null = null;
    let error: string | null = null;
    try {
      status = (await poster(target.url, body, headers, policy.timeoutMs)).status;
      if (status < 200 || status >= 300) error = `HTTP ${status}`;
    } catch (e) {
      error = e instanceof Error ? e.message.slice(0, 200) : 'send failed';
    }
    const attempts = d.attempts + 1;
    const done = clock.now().getTime();
    const delay = error === null ? undefined : nextDelay(policy, attempts);
    // A little jitter spreads retries of many deliveries that failed together.
    const next = delay === undefined ? null : done + Math.round(delay * (0.9 + 0.2 * random.float()));
    await db.transaction(async (tx) => {
      // Back-off per endpoint: its other queued deliveries wait as long as this one, instead of
      // each being tried (and each waiting for the timeout) against an endpoint that is down.
      if (error !== null) await repo.deferEndpoint(tx, d.endpointId, d.id, next ?? done + policy.baseMs);
      await repo.finishAttempt(
        tx,
        {
          ...d,
          status: error === null ? 'succeeded' : next === null ? 'failed' : 'pending',
          attempts,
          nextAttemptAt: next,
          lastStatusCode: status,
          lastError: error,
          updatedAt: done,
        },
        { id: ids.next('wha'), deliveryId: d.id, attemptedAt: now, statusCode: status, error, durationMs: Date.now() - started },
      );
    });
  }

  /**
   * Starts what is due into the free slots, fairly: the due list takes the oldest few of each
   * merchant in turn (round robin), and no merchant holds more than `perMerchant` slots, counting
   * the sends still in flight from earlier rounds.
   */
  async function launch(): Promise<Promise<void>[]> {
    const free = policy.concurrency - inFlight.size;
    if (free <= 0) return [];
    const due = await repo.dueDeliveriesFair(db, clock.now().getTime(), policy.perMerchant, policy.concurrency + inFlight.size);
    const started: Promise<void>[] = [];
    for (const d of due) {
      if (started.length >= free) break;
      if (inFlight.has(d.id)) continue;
      const load = merchantLoad.get(d.merchantId) ?? 0;
      if (load >= policy.perMerchant) continue;
      merchantLoad.set(d.merchantId, load + 1);
      const sending = attempt(d).finally(() => {
        inFlight.delete(d.id);
        const left = (merchantLoad.get(d.merchantId) ?? 1) - 1;
        if (left <= 0) merchantLoad.delete(d.merchantId);
        else merchantLoad.set(d.merchantId, left);
      });
      inFlight.set(d.id, sending);
      started.push(sending);
    }
    return started;
  }

  async function tick(): Promise<{ dispatched: number; attempted: number }> {
    const dispatched = await dispatch();
    const started = await launch();
    await Promise.all(started);
    return { dispatched, attempted: started.length };
  }

  async function pump(onError: (e: unknown) => void): Promise<{ dispatched: number; started: number }> {
    const dispatched = await dispatch();
    const started = await launch();
    for (const p of started) p.catch(onError);
    return { dispatched, started: started.length };
  }

  async function getEndpoint(merchantId: string, id: string, opts: { mode?: Mode } = {}): Promise<WebhookEndpoint> {
    const e = await repo.getEndpoint(db, merchantId, opts.mode ?? 'live', id);
    if (!e) throw new DomainError('not_found', 'webhook_endpoint_not_found', `no webhook endpoint ${id}`);
    const { secret: _secret, ...endpoint } = e;
    return endpoint;
  }

  async function getDelivery(merchantId: string, id: string, opts: { mode?: Mode } = {}): Promise<Delivery> {
    const d = await repo.getDelivery(db, merchantId, opts.mode ?? 'live', id);
    if (!d) throw new DomainError('not_found', 'webhook_delivery_not_found', `no webhook delivery ${id}`);
    return d;
  }

  return {
    async record(tx, e) {
      const ev: WebhookEvent = { id: ids.next('evt'), ...e, mode: e.mode ?? 'live', createdAt: clock.now().getTime() };
      await repo.insertEvent(tx, ev);
      return ev;
    },

    async createEndpoint(merchantId, input) {
      const events = input.events ?? ['*'];
      if (!Array.isArray(events) || events.length === 0 || events.some((t) => typeof t !== 'string' || !/^(\*|[a-z_]+(\.[a-z_]+)+)$/.test(t))) {
        throw new DomainError('invalid', 'events_invalid', 'events is a list of event types such as payment_intent.succeeded, or *');
      }
      const url = await checkTarget(input.url);
      const bytes = random.bytes(24);
      const secret = `whsec_${bytes.toString('hex')}`;
      const endpoint: WebhookEndpoint = {
        id: ids.next('we'),
        merchantId,
        url,
        events,
        disabled: false,
        mode: input.mode ?? 'live',
        createdAt: clock.now().getTime(),
      };
      await repo.insertEndpoint(db, endpoint, secret);
      return { endpoint, secret };
    },

    getEndpoint,

    async listEndpoints(merchantId, q = {}) {
      const limit = pageLimit(q.limit);
      return toPage(await repo.listEndpoints(db, merchantId, q.mode ?? 'live', q.cursor, limit + 1), limit);
    },

    async setEndpointDisabled(merchantId, id, disabled, opts = {}) {
      const mode = opts.mode ?? 'live';
      await getEndpoint(merchantId, id, { mode });
      await repo.setEndpointDisabled(db, merchantId, mode, id, disabled);
      return getEndpoint(merchantId, id, { mode });
    },

    async getEvent(merchantId, id, opts = {}) {
      const e = await repo.getEvent(db, merchantId, opts.mode ?? 'live', id);
      if (!e) throw new DomainError('not_found', 'event_not_found', `no event ${id}`);
      return e;
    },

    async listEvents(merchantId, q = {}) {
      const limit = pageLimit(q.limit);
      return toPage(await repo.listEvents(db, merchantId, q.mode ?? 'live', q.objectId, q.cursor, limit + 1), limit);
    },

    async getDelivery(merchantId, id, opts = {}) {
      const d = await getDelivery(merchantId, id, opts);
      return { ...d, attemptLog: await repo.attempts(db, d.id) };
    },

    async listDeliveries(merchantId, q = {}) {
      const limit = pageLimit(q.limit);
      return toPage(await repo.listDeliveries(db, merchantId, q.mode ?? 'live', { endpointId: q.endpointId, eventId: q.eventId }, q.cursor, limit + 1), limit);
    },

    async retryDelivery(merchantId, id, opts = {}) {
      await getDelivery(merchantId, id, opts);
      await repo.requeue(db, merchantId, id, clock.now().getTime());
      return getDelivery(merchantId, id, opts);
    },

    tick,
    pump,

    start(intervalMs, onError) {
      if (timer) return;
      const loop = (): void => {
        running = pump(onError)
          .catch(onError)
          .finally(() => {
            if (timer) timer = setTimeout(loop, intervalMs);
          });
      };
      timer = setTimeout(loop, intervalMs);
    },

    async stop() {
      const t = timer;
      timer = undefined;
      if (t) clearTimeout(t);
      await running;
      await Promise.allSettled([...inFlight.values()]);
    },

    backlog: () => repo.backlog(deps.db),
  };
}
