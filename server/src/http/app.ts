import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Clock, IdGenerator } from '../platform/index.ts';
import { DomainError } from '../platform/index.ts';
import type { Db } from '../storage/index.ts';
import { authenticateMerchant } from './auth.ts';
import { errorBody, handleError, isRetryable } from './errors.ts';
import { IDEMPOTENCY_KEY, createIdempotencyStore, fingerprint, type IdempotencyStore } from './idempotency.ts';
import { checkJsonText } from './json-body.ts';
import { OpenApiCollector, renderDocs } from './openapi.ts';
import { routeFiles } from './routes/index.ts';
import { registerOperations, type Operations } from './operations.ts';
import { registerSecurity, type RateLimits } from './security.ts';
import type { AppServices, RouteRegistrar } from './types.ts';

export interface HttpDeps {
  services: AppServices;
  db: Db;
  clock: Clock;
  ids: IdGenerator;
  config: {
    bodyLimitBytes: number;
    logLevel: string;
    /** Whom to believe about the client's address and protocol (X-Forwarded-*); false: nobody. */
    trustProxy?: boolean | string | number;
    /** Rate limits (see security.ts); false switches them off. */
    rateLimits?: boolean | Partial<RateLimits>;
    /** Serve HTTPS with this certificate (chain) and key, PEM. */
    https?: { cert: Buffer; key: Buffer };
  };
  /** Where log lines go (one JSON object per line); stdout by default. */
  logStream?: { write(line: string): void };
  /** Route files to register instead of the standard list (tests). */
  routes?: readonly RouteRegistrar[];
  idempotency?: IdempotencyStore;
  /** Health, readiness, metrics and the local CA's certificate (see operations.ts). */
  operations?: Operations;
}

const REQUEST_ID = /^[A-Za-z0-9_.\-]{1,64}$/;

/**
 * The API server, not yet listening: tests drive it with `inject`, `facepay start` calls listen.
 * Cross-cutting work happens here once: request ids, API-key auth (routes declare
 * `config: { auth: scope }`), Idempotency-Key on POSTs, error mapping, the OpenAPI document.
 */
export function buildApp(deps: HttpDeps): FastifyInstance {
  const { services, ids } = deps;
  const idempotency = deps.idempotency ?? createIdempotencyStore(deps.db, deps.clock);
  const app = Fastify({
    // Fastify's types pick a server type from this option; the app is used through the common interface.
    ...((deps.config.https ? { https: { ...deps.config.https, minVersion: 'TLSv1.2' } } : {}) as object),
    logger: { level: deps.config.logLevel, ...(deps.logStream ? { stream: deps.logStream } : {}) },
    bodyLimit: deps.config.bodyLimitBytes,
    // One line per request, written in onResponse below, instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'request_id' }),
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : ids.next('req');
    },
    // Types are never coerced: "100" is not an amount. Query strings are strings checked by pattern.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false } },
    return503OnClosing: true,
    // Fastify takes a hop count too, though its types leave numbers out.
    trustProxy: (deps.config.trustProxy ?? false) as boolean | string,
  });

  // The API speaks JSON only; a route file that takes other bodies (images) adds its own parser.
  app.removeContentTypeParser('text/plain');
  // Fastify's own JSON parser (prototype poisoning refused), after a bound on nesting and NULs.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    try {
      checkJsonText(body as string);
    } catch (e) {
      done(e as Error, undefined);
      return;
    }
    parseJson(request, body as string, done);
  });
  const openapi = new OpenApiCollector();
  app.addHook('onRoute', openapi.onRoute);
  app.decorateRequest('auth', null);
  app.decorateRequest('idempotency', null);

  app.addHook('onRequest', async (request, reply) => {
    reply.header('request-id', request.id);
    // PostgreSQL cannot store NUL in text: refuse it in the path and query before any lookup.
    if (/%00/i.test(request.url)) throw new DomainError('invalid', 'nul_character', 'the URL must not contain the NUL character (%00)');
  });
  // Headers and rate limits before credentials are looked at.
  const limits = deps.config.rateLimits ?? true;
  registerSecurity(app, { rateLimits: limits === true ? {} : limits });
  if (deps.operations) registerOperations(app, deps.operations);

  // Credentials (API key, or the console's staff cookie) are checked before the body is even read:
  // a caller without valid ones learns nothing else.
  app.addHook('onRequest', async (request) => {
    const scope = request.routeOptions.config.auth;
    if (scope === undefined) return;
    request.auth = await authenticateMerchant(services.merchants, request, scope, services.staff);
  });

  app.addHook('preHandler', async (request, reply) => {
    if (request.auth === null || request.method !== 'POST') return;
    const key = request.headers['idempotency-key'];
    if (key === undefined) return;
    if (typeof key !== 'string' || !IDEMPOTENCY_KEY.test(key)) {
      throw new DomainError('invalid', 'idempotency_key_invalid', 'Idempotency-Key is 1 to 255 printable ASCII characters');
    }
    // A stored response is replayed only to the principal that made it: another key of the same
    // merchant (perhaps with fewer scopes) must not read, say, the owner's new full-scope secret.
    const a = request.auth;
    const scopeKey = `${a.merchantId}:${a.mode}:${a.staff ? `staff:${a.staff.id}` : `key:${a.keyId}`}`;
    const begin = await idempotency.begin(scopeKey, key, fingerprint(request.method, request.url, request.body));
    if (begin.kind === 'replay') {
      request.log.info({ idempotency_key: key }, 'idempotent replay');
      return reply.code(begin.statusCode).header('idempotent-replayed', 'true').type('application/json; charset=utf-8').send(begin.body);
    }
    request.idempotency = { scope: scopeKey, key };
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const held = request.idempotency;
    if (held === null) return payload;
    request.idempotency = null;
    // Our own failures are not remembered, so that the client's retry runs again.
    if (reply.statusCode >= 500) await idempotency.release(held.scope, held.key);
    else await idempotency.finish(held.scope, held.key, reply.statusCode, typeof payload === 'string' ? payload : JSON.stringify(payload));
    return payload;
  });

  // Every error body says whether sending the same request again can help (see errors.ts).
  app.addHook('preSerialization', async (_request, reply, payload) => {
    if (reply.statusCode < 400 || typeof payload !== 'object' || payload === null) return payload;
    const error = (payload as { error?: unknown }).error;
    if (typeof error !== 'object' || error === null || typeof (error as { code?: unknown }).code !== 'string') return payload;
    const e = error as { code: string; retryable?: boolean };
    if (e.retryable === undefined) e.retryable = isRetryable(reply.statusCode, e.code);
    return payload;
  });

  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      // The path only: query strings carry searches by phone number and the like.
      { method: request.method, url: request.url.split('?')[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10, merchant: request.auth?.merchantId },
      'request',
    );
  });

  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send(errorBody(request, 'route_not_found', `there is no route ${request.method} ${request.url.split('?')[0]}`)),
  );

  for (const register of deps.routes ?? routeFiles) register(app, services);

  let doc: Record<string, unknown> | undefined;
  const document = (): Record<string, unknown> => (doc ??= openapi.document({ title: 'Facepay API', version: '1' }));
  app.get('/openapi.json', async () => document());
  app.get('/docs', async (_request, reply) => reply.type('text/html; charset=utf-8').send(renderDocs(document())));
  return app;
}
