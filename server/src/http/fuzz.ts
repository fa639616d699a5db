/**
 * A property-based fuzzer for the whole HTTP surface (issue 17): every operation of /openapi.json,
 * the device routes (some requests signed by a real activated terminal) and the web app paths, with
 * malformed JSON, wrong types, huge and odd numbers, long and odd strings, deep nesting, bad
 * cookies, bad paths and query strings, over real HTTP. What must hold: no answer is 5xx, none
 * takes longer than the timeout, and the ledger audit is clean afterwards.
 *
 * `npm run fuzz -- --requests N [--seed S] [--pg]` runs it on a fresh in-process server and prints
 * the status histogram; fuzz.test.ts runs a bounded number of requests in npm test.
 */
import type { AddressInfo } from 'node:net';
import { activateDevice, MemoryKeyStore, type DeviceClient } from '@facepay/device-sdk';
import fc from 'fast-check';
import type { TestPlatform } from '../testing.ts';

interface Operation {
  method: string;
  /** With `{name}` placeholders. */
  path: string;
  body?: Record<string, unknown>;
  query: string[];
  device: boolean;
}

interface FuzzRequest {
  op: Operation;
  path: string;
  query: string;
  headers: Record<string, string>;
  /** Raw text sent as the body, or undefined for none. */
  body: string | undefined;
  /** Sign it as the activated terminal (device routes only). */
  signed: boolean;
}

export interface FuzzContext {
  baseUrl: string;
  /** Valid ids to put into path parameters sometimes, so that requests reach the handlers. */
  ids: string[];
  apiKey: string;
  shopperCookie: string;
  staffCookie: string;
  device?: DeviceClient;
}

export interface FuzzResult {
  requests: number;
  histogram: Record<string, number>;
  /** Requests answered 5xx or not at all within the timeout. */
  failures: { status: number | 'timeout' | 'error'; method: string; url: string; body: string | undefined; answer: string }[];
  ms: number;
}

/** The operations of the OpenAPI document, plus the app paths (which are not API operations). */
export function operations(doc: { paths: Record<string, Record<string, { parameters?: { in: string; name: string }[]; requestBody?: { content: Record<string, { schema: Record<string, unknown> }> } }>> }): Operation[] {
  const ops: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const body = op.requestBody?.content['application/json']?.schema;
      ops.push({
        method: method.toUpperCase(),
        path,
        ...(body ? { body } : {}),
        query: (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
        device: path.startsWith('/device/'),
      });
    }
  }
  for (const app of ['console', 'portal', 'terminal']) ops.push({ method: 'GET', path: `/${app}/{rest}`, query: [], device: false });
  ops.push({ method: 'GET', path: '/assets/face/{kind}/{file}', query: [], device: false });
  return ops;
}

const oddStrings = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom('', ' ', '%', '%25', '%E0%A4%A', '\u0000', 'a\u0000b', '../../etc/passwd', '<script>alert(1)</script>', "' OR 1=1 --", '\uD800', '\uFFFF', '💸', 'null', 'NaN', '-0', 'usd', 'xxx', 'EUR', '2026-13-45'),
  fc.string({ minLength: 1000, maxLength: 5000 }),
);
const oddNumbers = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -1, 1, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), Number.MAX_SAFE_INTEGER, 1e308, -1e308, 5e-324, 0.1, 99.999),
  fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }).map((n) => Number(n)),
);
const leaf: fc.Arbitrary<unknown> = fc.oneof(oddStrings, oddNumbers, fc.boolean(), fc.constant(null));
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  v: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, fc.array(tie('v'), { maxLength: 4 }), fc.dictionary(fc.string({ maxLength: 8 }), tie('v'), { maxKeys: 4 })),
})).v;

/** A body shaped like the schema, with some fields of the wrong type or odd values. */
function bodyFor(schema: Record<string, unknown> | undefined, ids: string[]): fc.Arbitrary<unknown> {
  const props = (schema?.properties ?? {}) as Record<string, Record<string, unknown>>;
  const names = Object.keys(props);
  const field = (p: Record<string, unknown>): fc.Arbitrary<unknown> => {
    const typed =
      p.type === 'integer' || p.type === 'number'
        ? oddNumbers
        : p.type === 'boolean'
          ? fc.boolean()
          : p.type === 'object'
            ? fc.oneof(bodyFor(p, ids), value)
            : Array.isArray(p.enum)
              ? fc.constantFrom(...(p.enum as unknown[]))
              : fc.oneof(oddStrings, fc.constantFrom(...ids));
    return fc.oneof({ weight: 3, arbitrary: typed }, { weight: 1, arbitrary: value });
  };
  if (names.length === 0) return fc.oneof(fc.constant({}), value);
  return fc.record(Object.fromEntries(names.map((n) => [n, field(props[n]!)])), { requiredKeys: [] }).chain((r) =>
    fc.oneof({ weight: 4, arbitrary: fc.constant(r as unknown) }, { weight: 1, arbitrary: fc.constant({ ...(r as object), unknown_field: { deep: [1, { x: 2 }] } }) }),
  );
}

const deepJson = fc.integer({ min: 15, max: 20_000 }).chain((n) => fc.constantFrom('['.repeat(n) + ']'.repeat(n), '{"a":'.repeat(n) + '1' + '}'.repeat(n)));
const badJson = fc.constantFrom('{', '{"a":', 'nul', '[1,]', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{}}}', '"\\u0000"', '1e999999', '{"a":"\\ud800"}', '\u0000', '');

function bodyText(op: Operation, ids: string[]): fc.Arbitrary<string | undefined> {
  return fc.oneof(
    { weight: 5, arbitrary: bodyFor(op.body, ids).map((b) => JSON.stringify(b)) },
    { weight: 1, arbitrary: value.map((v) => JSON.stringify(v) ?? 'null') },
    { weight: 1, arbitrary: deepJson },
    { weight: 1, arbitrary: badJson },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
}

/** Percent-encodes any string, lone surrogates too (as their UTF-8 replacement bytes would be). */
function enc(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return [...Buffer.from(s, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
  }
}

const segment = (ids: string[]): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...ids) },
    { weight: 2, arbitrary: oddStrings.map((s) => enc(s.slice(0, 300))) },
    { weight: 1, arbitrary: fc.constantFrom('%25', '%E0%A4%A', '%', '..%2F..%2F', '%00', '%2e%2e', '.', '..', 'a%2Fb', '%C0%AF', 'x'.repeat(3000)) },
  );

const query = (names: string[]): fc.Arbitrary<string> =>
  fc
    .array(
      fc.tuple(
        fc.oneof(fc.constantFrom(...(names.length ? names : ['limit'])), fc.constantFrom('limit', 'starting_after', 'q', 'from', 'to', '__proto__', 'a[b]', '%', '')),
        fc.oneof(oddStrings.map((s) => enc(s.slice(0, 200))), fc.constantFrom('%', '%E0%A4%A', '-1', '0', '1e309', '99999999999999999999', '%00', '')),
      ),
      { maxLength: 4 },
    )
    .map((pairs) => (pairs.length ? '?' + pairs.map(([k, v]) => `${k}=${v}`).join('&') : ''));

function headers(ctx: FuzzContext, destructive: boolean): fc.Arbitrary<Record<string, string>> {
  const valid = fc.constantFrom<Record<string, string>>(
    { authorization: `Bearer ${ctx.apiKey}` },
    { authorization: `Bearer ${ctx.apiKey}` },
    { cookie: ctx.shopperCookie },
    { cookie: ctx.staffCookie },
  );
  const invalid = fc.constantFrom<Record<string, string>>(
    {},
    { authorization: 'Bearer sk_test_nope' },
    { authorization: 'Basic %%%' },
    { cookie: 'fp_staff=%' },
    { cookie: 'fp_session=%E0%A4%A' },
    { cookie: 'fp_session=%00; fp_staff=a%00' },
    { cookie: `fp_staff=${'x'.repeat(4000)}` },
  );
  const auth = destructive
    ? fc.oneof(invalid, fc.constant({ authorization: `Bearer ${ctx.apiKey}` }))
    : fc.oneof({ weight: 3, arbitrary: valid }, { weight: 1, arbitrary: invalid });
  const extra = fc.record(
    {
      'content-type': fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', 'image/jpeg'),
      'idempotency-key': fc.oneof(fc.uuid(), fc.constantFrom('', ' ', 'k'.repeat(300), 'ключ')),
      'x-forwarded-for': fc.constantFrom('1.2.3.4', 'garbage', '::1, 10.0.0.1'),
      'facepay-device-id': fc.constantFrom('dev_nope', '%', ''),
      'facepay-timestamp': fc.constantFrom('0', '-1', '1e99', 'soon'),
    },
    { requiredKeys: ['content-type'] },
  );
  return fc.tuple(auth, extra).map(([a, e]) => {
    const out: Record<string, string> = { ...a };
    for (const [k, v] of Object.entries(e)) if (v !== undefined && /^[\t\x20-\x7e]*$/.test(v)) out[k] = v;
    return out;
  });
}

export function requestArbitrary(ops: Operation[], ctx: FuzzContext): fc.Arbitrary<FuzzRequest> {
  return fc.constantFrom(...ops).chain((op) => {
    const params = [...op.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
    // Signing out and revoking are fuzzed without the run's own sessions and terminal, which the
    // rest of the run needs to get past authentication.
    const destructive = /\/(logout|revoke)$/.test(op.path);
    return fc
      .record({
        segs: fc.tuple(...params.map(() => segment(destructive ? ['term_nope'] : ctx.ids)), fc.constant('')),
        query: query(op.query),
        headers: headers(ctx, destructive),
        body: op.method === 'GET' ? fc.constant(undefined) : bodyText(op, ctx.ids),
        signed: fc.boolean(),
      })
      .map(({ segs, query: q, headers: h, body, signed }) => {
        let i = 0;
        const path = op.path.replace(/\{[^}]+\}/g, () => segs[i++] ?? '');
        return { op, path, query: q, headers: h, body, signed: signed && op.device && ctx.device !== undefined };
      });
  });
}

async function send(ctx: FuzzContext, r: FuzzRequest, timeoutMs: number): Promise<{ status: number; text: string }> {
  const signal = AbortSignal.timeout(timeoutMs);
  const url = r.path + r.query;
  let res: Response;
  if (r.signed && ctx.device) {
    res = await ctx.device.fetch(url, {
      method: r.op.method,
      headers: { 'content-type': r.headers['content-type'] ?? 'application/json' },
      ...(r.body !== undefined && r.op.method !== 'GET' ? { body: r.body } : {}),
      signal,
    });
  } else {
    res = await fetch(ctx.baseUrl + url, {
      method: r.op.method,
      headers: r.body === undefined ? Object.fromEntries(Object.entries(r.headers).filter(([k]) => k !== 'content-type')) : r.headers,
      ...(r.body !== undefined ? { body: r.body } : {}),
      signal,
    });
  }
  return { status: res.status, text: (await res.text()).slice(0, 300) };
}

/**
 * A service this server was started without (the fuzz platform runs with FACEPAY_FACE=0) answers
 * 503 with one of these codes, by design; any other 5xx is a failure.
 */
const SWITCHED_OFF = new Set(['face_engine_off', 'enrolment_unavailable', 'devices_unavailable']);
function switchedOff(answer: string): boolean {
  try {
    return SWITCHED_OFF.has((JSON.parse(answer) as { error?: { code?: string } }).error?.code ?? '');
  } catch {
    return false;
  }
}

/** Sends `requests` generated requests, `concurrency` at a time, and tallies the answers. */
export async function runFuzz(ctx: FuzzContext, ops: Operation[], opts: { requests: number; seed?: number; concurrency?: number; timeoutMs?: number }): Promise<FuzzResult> {
  const started = Date.now();
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const samples = fc.sample(requestArbitrary(ops, ctx), { numRuns: opts.requests, ...(opts.seed !== undefined ? { seed: opts.seed } : {}) });
  const histogram: Record<string, number> = {};
  const failures: FuzzResult['failures'] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < samples.length) {
      const r = samples[next++]!;
      let status: number | 'timeout' | 'error';
      let answer = '';
      try {
        const res = await send(ctx, r, timeoutMs);
        status = res.status;
        answer = res.text;
      } catch (e) {
        const err = e as Error;
        status = err.name === 'TimeoutError' ? 'timeout' : 'error';
        answer = `${err.name}: ${err.message}`;
      }
      histogram[String(status)] = (histogram[String(status)] ?? 0) + 1;
      if (typeof status !== 'number' || (status >= 500 && !switchedOff(answer))) failures.push({ status, method: r.op.method, url: (r.path + r.query).slice(0, 300), body: r.body?.slice(0, 300), answer });
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 8 }, worker));
  return { requests: samples.length, histogram, failures, ms: Date.now() - started };
}

/** A platform listening on a free port, with a shopper, a staff owner and an activated terminal. */
export async function fuzzContext(p: TestPlatform): Promise<FuzzContext> {
  await p.app.listen({ port: 0, host: '127.0.0.1' });
  const baseUrl = `http://127.0.0.1:${(p.app.server.address() as AddressInfo).port}`;
  const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(baseUrl + url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  await post('/v1/shopper/signup', { email: 'fuzz@example.com', password: 'a long passphrase', name: 'Fuzz Shopper' });
  const signin = await post('/v1/shopper/login', { email: 'fuzz@example.com', password: 'a long passphrase' });
  const shopperCookie = (signin.headers.get('set-cookie') ?? '').split(';')[0]!;
  await p.services.staff!.create(p.merchantId, { email: 'owner@fuzz.test', name: 'Olga Owner', password: 'owner passphrase', role: 'owner' });
  const login = await post('/v1/staff/login', { email: 'owner@fuzz.test', password: 'owner passphrase', merchant_id: p.merchantId });
  const staffCookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
  const auth = { authorization: `Bearer ${p.apiKey}` };
  // Money on the books, so that the audit afterwards has something to check and pay codes can pay.
  await post('/v1/shopper/topups', { amount: 50_000, currency: p.config.walletCurrency }, { cookie: shopperCookie, 'idempotency-key': 'fuzz-topup' });
  const payCode = ((await (await post('/v1/shopper/pay_codes', {}, { cookie: shopperCookie })).json()) as { code?: string }).code ?? 'none';
  const terminal = (await (await post('/v1/terminals', { store: p.storeId }, auth)).json()) as { id: string; activation_code: string };
  const { client: device } = await activateDevice({ baseUrl, code: terminal.activation_code, keyStore: new MemoryKeyStore() });
  const intent = (await (await post('/v1/payment_intents', { amount: 1000, currency: 'usd', store: p.storeId }, auth)).json()) as { id: string };
  const ids = [p.merchantId, p.storeId, terminal.id, intent.id, payCode, 'index.html', 'app.js', 'models', 'wasm', 'blazeface.json'].filter((s) => typeof s === 'string');
  return { baseUrl, ids, apiKey: p.apiKey, shopperCookie, staffCookie, device };
}

function histogramText(h: Record<string, number>): string {
  return Object.entries(h)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `  ${k.padEnd(8)} ${v}`)
    .join('\n');
}

async function main(argv: string[]): Promise<number> {
  const arg = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const requests = Number(arg('requests') ?? 2000);
  const seed = arg('seed') !== undefined ? Number(arg('seed')) : Date.now() % 2 ** 31;
  const dialect = argv.includes('--pg') ? 'postgres' : 'sqlite';
  const { testPlatform } = await import('../testing.ts');
  const p = await testPlatform(dialect);
  try {
    const ctx = await fuzzContext(p);
    const doc = (await (await fetch(`${ctx.baseUrl}/openapi.json`)).json()) as Parameters<typeof operations>[0];
    const ops = operations(doc);
    console.log(`fuzzing ${ops.length} operations with ${requests} requests on ${dialect} (seed ${seed})`);
    const r = await runFuzz(ctx, ops, { requests, seed });
    const audit = await p.services.ledger.verify();
    console.log(`${r.requests} requests in ${(r.ms / 1000).toFixed(1)} s; status histogram:\n${histogramText(r.histogram)}`);
    console.log(`ledger audit: ${audit.ok ? 'clean' : 'FAILED ' + audit.problems.join('; ')} (${audit.accounts} accounts, ${audit.transfers} transfers)`);
    for (const f of r.failures.slice(0, 50)) console.log(`FAIL ${f.status} ${f.method} ${f.url} body=${JSON.stringify(f.body)} -> ${f.answer}`);
    console.log(`${r.failures.length} failures`);
    return r.failures.length === 0 && audit.ok ? 0 : 1;
  } finally {
    await p.dispose();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main(process.argv.slice(2));
}
