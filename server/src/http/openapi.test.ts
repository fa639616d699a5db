/**
 * The OpenAPI document describes every device route: its answer, the signature headers and each
 * error code it can give, so that a terminal can be written from /openapi.json and
 * docs/device-protocol.md alone.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import Fastify from 'fastify';
import { DEVICE_ERROR_CODES } from '../devices/index.ts';
import { testPlatform, type TestPlatform } from '../testing.ts';
import { DEVICE_ROUTE_DOCS } from './device-docs.ts';
import { routeFiles } from './routes/index.ts';

let p: TestPlatform;
let doc: { paths: Record<string, Record<string, { parameters?: { name: string; in: string }[]; security?: unknown[]; responses: Record<string, any> }>> };
/** Every route under /device/ that the standard route files register, as "METHOD /path". */
const deviceRoutes: string[] = [];

before(async () => {
  p = await testPlatform('sqlite');
  doc = (await p.app.inject({ method: 'GET', url: '/openapi.json' })).json();
  // The routes as registered, documented or not: a bare instance that only records them.
  const bare = Fastify();
  bare.addHook('onRoute', (r) => {
    for (const m of [r.method].flat()) if (m !== 'HEAD' && r.url.startsWith('/device/')) deviceRoutes.push(`${m} ${r.url}`);
  });
  for (const register of routeFiles) register(bare, p.services);
  await bare.ready();
  await bare.close();
});
after(async () => {
  await p.dispose();
});

test('every device route is in /openapi.json with its answer and error codes', () => {
  assert.ok(deviceRoutes.length >= 9, `found ${deviceRoutes.length} device routes`);
  assert.deepEqual(deviceRoutes.filter((r) => DEVICE_ROUTE_DOCS[r] === undefined), [], 'routes without an entry in device-docs.ts');
  assert.deepEqual(Object.keys(DEVICE_ROUTE_DOCS).filter((r) => !deviceRoutes.includes(r)), [], 'entries for routes that do not exist');
  for (const route of deviceRoutes) {
    const [method, url] = route.split(' ') as [string, string];
    const op = doc.paths[url.replace(/:([A-Za-z_]+)/g, '{$1}')]?.[method.toLowerCase()];
    assert.ok(op, `${route} is missing from /openapi.json`);
    const ok = op.responses['200']?.content?.['application/json']?.schema;
    assert.ok(ok && (ok.properties !== undefined || ok.allOf !== undefined), `${route}: the 200 answer has no schema`);
    const codes = Object.values(op.responses).flatMap((r: { 'x-error-codes'?: string[] }) => r['x-error-codes'] ?? []);
    assert.ok(codes.includes('internal_error') && codes.includes('body_too_large'), `${route}: general codes missing`);
    const signed = url !== '/device/v1/activate';
    if (signed) {
      for (const code of ['device_auth_missing', 'device_signature_invalid', 'device_nonce_reused', 'device_nonce_limit', 'device_revoked']) {
        assert.ok(codes.includes(code), `${route}: ${code} missing`);
      }
      const headers = (op.parameters ?? []).filter((x) => x.in === 'header').map((x) => x.name);
      assert.deepEqual(headers.slice(0, 4), ['Facepay-Device-Id', 'Facepay-Timestamp', 'Facepay-Nonce', 'Facepay-Signature']);
      assert.deepEqual(op.security, [{ deviceSignature: [] }]);
    }
    // Each listed code sits under the status it is answered with.
    for (const [status, r] of Object.entries(op.responses)) {
      for (const code of (r as { 'x-error-codes'?: string[] })['x-error-codes'] ?? []) {
        const kind = (DEVICE_ERROR_CODES as Record<string, string>)[code];
        const expected = { invalid: '400', unauthorized: '401', forbidden: '403', not_found: '404', conflict: '409', busy: '429', unavailable: '503' }[kind ?? ''];
        if (expected !== undefined) assert.equal(status, expected, `${route}: ${code}`);
      }
    }
  }
  const activate = doc.paths['/device/v1/activate']!.post!;
  assert.ok(activate.responses['401']['x-error-codes'].includes('activation_code_expired'));
  const payCode = doc.paths['/device/v1/payment_intents/{id}/pay_code']!.post!;
  assert.ok(payCode.responses['402']['x-error-codes'].includes('insufficient_funds'), 'a decline is documented as 402');
});

test('what the document says a device route answers is what it answers', async () => {
  const res = await p.app.inject({ method: 'GET', url: '/device/v1/me' });
  const body = res.json();
  const documented = doc.paths['/device/v1/me']!.get!.responses[String(res.statusCode)];
  assert.ok(documented['x-error-codes'].includes(body.error.code));
  assert.deepEqual(Object.keys(body.error).sort(), ['code', 'details', 'message', 'request_id', 'retryable']);
});
