/**
 * What an operator's monitoring reads: `/health/live` (the process answers), `/health/ready`
 * (every part it needs is usable; 503 naming the ones that are not, so a load balancer stops
 * sending it traffic), and `/metrics` in Prometheus' text format. The probes and gauges are given
 * by the composition root; this file knows only HTTP.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import ipaddr from 'ipaddr.js';
import { createHash, timingSafeEqual } from 'node:crypto';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { DomainError } from '../platform/index.ts';

export interface ProbeResult {
  ready: boolean;
  /** Why not, or what state it is in ("off", "loading", ...). */
  detail?: string;
  /** Structured state for machines (the gallery's partitions served and their load state, ...). */
  details?: Record<string, unknown>;
}

/** One named part of readiness (database, face_engine, gallery, ...). */
export type Probe = () => Promise<ProbeResult> | ProbeResult;

export interface Operations {
  probes: Record<string, Probe>;
  metrics: Registry;
  /** Opens /metrics to non-loopback clients that send it as a bearer token. */
  metricsToken?: string;
  /** The local CA's certificate (PEM), offered to tablets at /ca.crt and /ca.pem. */
  caCertificate?: Buffer;
  /** The plain-HTTP port that also serves /ca.crt (FACEPAY_HTTP_PORT), for a tablet that does not trust the CA yet. */
  caHttpPort?: number;
}

/** A platform's own registry (HTTP, payments, gallery, ...); the process's metrics are added at each scrape. */
export function createMetricsRegistry(): Registry {
  return new Registry();
}

/**
 * The Node process's metrics (memory, event-loop lag, GC), collected once per process: each
 * collector installs observers, and a process may build several platforms (the demo seed's lanes).
 */
let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (processRegistry === undefined) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry, prefix: 'facepay_process_' });
  }
  return processRegistry;
}

/** The counters that other parts increment; created on the registry once. */
export interface AppMetrics {
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  loginThrottled: Counter<'reason'>;
}

export function appMetrics(registry: Registry): AppMetrics {
  const existing = registry.getSingleMetric('facepay_http_request_duration_seconds') as AppMetrics['httpDuration'] | undefined;
  return {
    httpDuration:
      existing ??
      new Histogram({
        name: 'facepay_http_request_duration_seconds',
        help: 'HTTP request latency by method, route pattern and status class',
        labelNames: ['method', 'route', 'status'],
        // From a cached page (ms) to a face payment's multi-frame capture (seconds).
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        registers: [registry],
      }),
    loginThrottled:
      (registry.getSingleMetric('facepay_login_throttled_total') as AppMetrics['loginThrottled'] | undefined) ??
      new Counter({
        name: 'facepay_login_throttled_total',
        help: 'sign-ins refused by the login throttle: too many wrong passwords for an account, or too many attempts from an address',
        labelNames: ['reason'],
        registers: [registry],
      }),
  };
}

function isLoopback(ip: string): boolean {
  try {
    const a = ipaddr.process(ip);
    return a.range() === 'loopback';
  } catch {
    return false;
  }
}

function tokenMatches(request: FastifyRequest, token: string): boolean {
  const given = request.headers.authorization;
  if (typeof given !== 'string' || !given.startsWith('Bearer ')) return false;
  const a = Buffer.from(given.slice(7));
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

const LOGIN_ROUTES = new Set(['/v1/staff/login', '/v1/shopper/login']);

export function registerOperations(app: FastifyInstance, ops: Operations): void {
  const m = appMetrics(ops.metrics);
  app.addHook('onResponse', async (request, reply) => {
    // The route's pattern, not its URL: ids in paths would make a series per object.
    const route = request.routeOptions.url ?? 'unmatched';
    m.httpDuration.observe({ method: request.method, route, status: `${Math.floor(reply.statusCode / 100)}xx` }, reply.elapsedTime / 1000);
  });
  app.addHook('onError', async (request, _reply, error) => {
    const code = (error as { code?: unknown }).code;
    if (code === 'too_many_login_attempts') m.loginThrottled.inc({ reason: 'account' });
    else if (code === 'rate_limited' && LOGIN_ROUTES.has(request.routeOptions.url ?? '')) m.loginThrottled.inc({ reason: 'address' });
  });

  const readiness = async (): Promise<{ ready: boolean; checks: Record<string, ProbeResult> }> => {
    const entries = await Promise.all(
      Object.entries(ops.probes).map(async ([name, probe]): Promise<[string, ProbeResult]> => {
        try {
          return [name, await probe()];
        } catch (e) {
          return [name, { ready: false, detail: e instanceof Error ? e.message : String(e) }];
        }
      }),
    );
    const checks = Object.fromEntries(entries);
    return { ready: entries.every(([, r]) => r.ready), checks };
  };

  app.get('/health/live', async () => ({ status: 'ok' }));
  app.get('/health/ready', async (_request, reply) => {
    const r = await readiness();
    const failing = Object.entries(r.checks).filter(([, c]) => !c.ready).map(([name]) => name);
    return reply.code(r.ready ? 200 : 503).send({ status: r.ready ? 'ready' : 'not_ready', failing, checks: r.checks });
  });

  app.get('/metrics', async (request, reply) => {
    // The figures say how busy each shop is: loopback (a scraper on this machine, or a proxy that
    // then guards it) or the configured token only.
    // Both the client (as FACEPAY_TRUST_PROXY reads it) and the socket's peer must be loopback: a
    // local proxy's peer is always loopback, and a forwarded address can be forged when every proxy is trusted.
    const local = isLoopback(request.ip) && isLoopback(request.socket.remoteAddress ?? '');
    const allowed = local || (ops.metricsToken !== undefined && tokenMatches(request, ops.metricsToken));
    if (!allowed) {
      throw new DomainError(
        'forbidden',
        'metrics_forbidden',
        ops.metricsToken ? 'send the metrics token as Authorization: Bearer TOKEN' : '/metrics answers loopback clients only unless FACEPAY_METRICS_TOKEN is set',
      );
    }
    const [own, proc] = await Promise.all([ops.metrics.metrics(), processMetrics().metrics()]);
    return reply.type(ops.metrics.contentType).send(`${own}\n${proc}`);
  });

  const ca = ops.caCertificate;
  if (ca !== undefined) {
    app.get('/ca.pem', async (_request, reply) => reply.type('application/x-pem-file').header('content-disposition', 'attachment; filename="facepay-ca.pem"').send(ca));
    // DER as .crt: what Android's certificate installer and iPadOS' profile download take most readily.
    const der = caDer(ca);
    app.get('/ca.crt', async (_request, reply) => reply.type('application/x-x509-ca-cert').header('content-disposition', 'attachment; filename="facepay-ca.crt"').send(der));
    // What the console shows beside the download link and its QR code: where a tablet fetches the
    // certificate, and its fingerprint to compare on the tablet before trusting it. Public, as the certificate is.
    const fingerprint = createHash('sha256').update(der).digest('hex').toUpperCase().match(/../g)!.join(':');
    app.get('/v1/tls/ca', {
      schema: { tags: ['Meta'], summary: "The local certificate authority's download paths and SHA-256 fingerprint (404 without a local CA)" },
      handler: async () => ({ object: 'certificate_authority', sha256_fingerprint: fingerprint, paths: ['/ca.crt', '/ca.pem'], http_port: ops.caHttpPort ?? null }),
    });
  }
}

function caDer(pem: Buffer): Buffer {
  const b64 = pem.toString('utf8').replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
  return Buffer.from(b64, 'base64');
}
