import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import helmet from 'helmet';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DomainError } from '../platform/index.ts';

/**
 * Security headers and rate limits, for every route. Both are applied in hooks of the app itself
 * (not in a plugin's own hooks) so that they run first and also on 401s, 404s and other errors.
 */

/**
 * The Content-Security-Policy the console, portal and terminal pass: scripts and styles from this
 * origin only (the placeholder and API reference pages carry one inline style block), WebAssembly
 * compilation for the on-device face detector (tfjs's wasm backend), workers from blobs (tfjs
 * starts its threads from one), camera frames drawn to canvases and read back as data: and blob:
 * images, fetches of data: URLs (the face library's warm-up reads its sample image so), and no
 * framing by any other page.
 */
const CSP = {
  'default-src': ["'self'"],
  'script-src': ["'self'", "'wasm-unsafe-eval'"],
  'worker-src': ["'self'", 'blob:'],
  'style-src': ["'self'", "'unsafe-inline'"],
  'img-src': ["'self'", 'data:', 'blob:'],
  'media-src': ["'self'", 'blob:'],
  'connect-src': ["'self'", 'data:'],
  'font-src': ["'self'"],
  'object-src': ["'none'"],
  'base-uri': ["'self'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
};

/** Only the camera, and only for this origin (face capture on the terminal and portal). */
const PERMISSIONS_POLICY = 'camera=(self), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()';
const HSTS = 'max-age=31536000; includeSubDomains';

/** Helmet's headers, computed once: they do not depend on the request. */
function helmetHeaders(): [string, string][] {
  const headers: [string, string][] = [];
  const res = {
    setHeader: (name: string, value: string | number | string[]) => void headers.push([name.toLowerCase(), String(value)]),
    removeHeader: () => undefined,
  } as unknown as ServerResponse;
  helmet({
    contentSecurityPolicy: { useDefaults: false, directives: CSP },
    // Sent only on HTTPS responses, below: over plain HTTP it means nothing and confuses setups.
    strictTransportSecurity: false,
    // The apps load nothing from other origins; requiring CORP of them would buy nothing.
    crossOriginEmbedderPolicy: false,
    referrerPolicy: { policy: 'no-referrer' },
    xFrameOptions: { action: 'deny' },
  })({} as IncomingMessage, res, () => undefined);
  headers.push(['permissions-policy', PERMISSIONS_POLICY]);
  return headers;
}

/** One rate-limit bucket: at most `max` requests per `windowMs` per key. */
export interface Bucket {
  max: number;
  windowMs: number;
}

export interface RateLimits {
  /** Every request, per client address. */
  perAddress: Bucket;
  /** Staff and shopper sign-in, per address (wrong passwords are also counted per account). */
  login: Bucket;
  signup: Bucket;
  /** Pay-code redemption at a terminal, per address. */
  payCode: Bucket;
  /** Terminal activation with a one-time code, per address. */
  activation: Bucket;
  /** Signed device requests, per device and address: one device cannot fill the nonce table. */
  perDevice: Bucket;
}

const MINUTE = 60_000;
export const DEFAULT_RATE_LIMITS: RateLimits = {
  perAddress: { max: 1200, windowMs: MINUTE },
  login: { max: 30, windowMs: MINUTE },
  signup: { max: 10, windowMs: MINUTE },
  payCode: { max: 30, windowMs: MINUTE },
  activation: { max: 10, windowMs: MINUTE },
  perDevice: { max: 600, windowMs: MINUTE },
};

type Named = keyof RateLimits;

/** The stricter bucket of a route, by its URL pattern, if it has one. */
function routeBucket(request: FastifyRequest): Named | undefined {
  const url = request.routeOptions.url;
  if (request.method !== 'POST' || url === undefined) return undefined;
  if (url === '/v1/staff/login' || url === '/v1/shopper/login' || url === '/v1/operator/login') return 'login';
  // An invitation's token is guessed no faster than a password.
  if (url.startsWith('/v1/staff/invitations/')) return 'login';
  // Each reset request sends a mail: as tight as sign-in, so the form cannot be used to flood an inbox.
  if (url.includes('/password_reset') || url === '/v1/staff/password' || url === '/v1/shopper/password') return 'login';
  if (url === '/v1/shopper/signup') return 'signup';
  if (url === '/device/v1/activate') return 'activation';
  if (url === '/device/v1/payment_intents/:id/pay_code') return 'payCode';
  return undefined;
}

export interface SecurityOptions {
  /** False switches rate limits off (benchmarks, most tests); a partial object changes buckets. */
  rateLimits: false | Partial<RateLimits>;
}

export function registerSecurity(app: FastifyInstance, opts: SecurityOptions): void {
  const headers = helmetHeaders();
  app.addHook('onRequest', async (request, reply) => {
    for (const [name, value] of headers) reply.header(name, value);
    // request.protocol is https behind a trusted proxy that says so (FACEPAY_TRUST_PROXY).
    if (request.protocol === 'https') reply.header('strict-transport-security', HSTS);
  });
  if (opts.rateLimits === false) return;

  const limits: RateLimits = { ...DEFAULT_RATE_LIMITS, ...opts.rateLimits };
  // The plugin's store, used through createRateLimit from our own hook so that limits run before
  // authentication (its route hooks would run after) and answer with our error codes.
  app.register(rateLimit, { global: false });
  type Check = (request: FastifyRequest) => Promise<{ isAllowed: boolean; isExceeded?: boolean; ttlInSeconds?: number }>;
  let checks: Record<Named, Check> | undefined;
  const build = (): Record<Named, Check> => {
    const out = {} as Record<Named, Check>;
    for (const name of Object.keys(limits) as Named[]) {
      const b = limits[name];
      out[name] = app.createRateLimit({
        max: b.max,
        timeWindow: b.windowMs,
        // request.ip is the socket's address unless FACEPAY_TRUST_PROXY names the proxy in front;
        // X-Forwarded-For from anyone else is never believed.
        keyGenerator: name === 'perDevice' ? (r) => `${String(r.headers['facepay-device-id'] ?? '')}|${r.ip}` : (r) => r.ip,
      }) as Check;
    }
    return out;
  };

  const enforce = async (request: FastifyRequest, reply: { header(k: string, v: string): unknown }, name: Named, code: string): Promise<void> => {
    checks ??= build();
    const r = await checks[name](request);
    if (r.isAllowed || r.isExceeded !== true) return;
    const retryAfterS = Math.max(1, r.ttlInSeconds ?? 1);
    reply.header('retry-after', String(retryAfterS));
    throw new DomainError('busy', code, `Too many requests. Try again in ${retryAfterS} seconds.`, { retry_after_s: retryAfterS });
  };

  app.addHook('onRequest', async (request, reply) => {
    await enforce(request, reply, 'perAddress', 'rate_limited');
    const strict = routeBucket(request);
    if (strict !== undefined) await enforce(request, reply, strict, 'rate_limited');
    const url = request.routeOptions.url;
    if (url !== undefined && url.startsWith('/device/') && request.headers['facepay-device-id'] !== undefined) {
      await enforce(request, reply, 'perDevice', 'device_rate_limited');
    }
  });
}
