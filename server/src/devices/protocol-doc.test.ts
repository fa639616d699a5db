/**
 * Holds docs/device-protocol.md to the code: the worked example's digest, canonical strings and
 * signatures are recomputed and verified here with the server's verifier and the SDK, the example
 * HTTP request is authenticated by the real service, and the error table must list exactly the
 * codes the module throws. Editing either side without the other fails this test.
 */
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type DeviceAlgorithm, HEADERS, base64urlDecode, canonicalString, sha256Hex, signCanonical, utf8 } from '@facepay/device-sdk';
import { statusForKind } from '../http/index.ts';
import { type ErrorKind, type IdGenerator, ManualClock, cryptoRandom, repoRoot } from '../platform/index.ts';
import type { Db } from '../storage/index.ts';
import { freshDb } from '../storage/testing.ts';
import { DEVICE_ERROR_CODES, DeviceRepo, type DeviceRequest, createDevicesService, deviceMigrations, parseDevicePublicKey } from './index.ts';
import { verifyDeviceSignature } from './keys.ts';

const doc = readFileSync(join(repoRoot, 'docs/device-protocol.md'), 'utf8');

function vector(name: string): string {
  const m = new RegExp(`<!-- vector:${name} -->\\n\`\`\`[a-z]*\\n([\\s\\S]*?)\\n\`\`\``).exec(doc);
  assert.ok(m?.[1] !== undefined, `the document has no vector ${name}`);
  return m[1];
}

/** The example request of section 7.2, read from its raw HTTP form. */
function httpVector(): DeviceRequest & { host: string } {
  const raw = vector('http-es256');
  const [head, body] = raw.split('\n\n') as [string, string];
  const [requestLine, ...headerLines] = head.split('\n');
  const [method, path, version] = requestLine!.split(' ');
  assert.equal(version, 'HTTP/1.1');
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const i = line.indexOf(': ');
    headers[line.slice(0, i).toLowerCase()] = line.slice(i + 2);
  }
  assert.equal(Number(headers['content-length']), utf8(body).length, 'Content-Length matches the body');
  return { method: method!, path: path!, headers, body: utf8(body), host: headers.host! };
}

const req = httpVector();
const h = (name: string): string => req.headers[name] as string;
const canonicalEs = vector('canonical-es256');
const canonicalEd = vector('canonical-ed25519');

function fields(deviceId: string, bodySha256: string) {
  return { method: req.method, path: req.path, deviceId, timestamp: h(HEADERS.timestamp), nonce: h(HEADERS.nonce), bodySha256 };
}

async function importPrivate(jwk: JsonWebKey, algorithm: DeviceAlgorithm): Promise<CryptoKey> {
  const alg = algorithm === 'ES256' ? { name: 'ECDSA', namedCurve: 'P-256' } : { name: 'Ed25519' };
  return crypto.subtle.importKey('jwk', jwk, alg, false, ['sign']);
}

test('the body in the document hashes to the documented digest, with Node and with the SDK', async () => {
  assert.equal(new TextDecoder().decode(req.body), vector('body'));
  assert.equal(utf8(vector('body')).length, 74);
  assert.equal(createHash('sha256').update(req.body).digest('hex'), vector('body-sha256'));
  assert.equal(await sha256Hex(req.body), vector('body-sha256'));
});

test('the canonical strings are what the shared canonical-string function builds', () => {
  assert.equal(canonicalString(fields(h(HEADERS.deviceId), vector('body-sha256'))), canonicalEs);
  assert.equal(canonicalString(fields('term_vector_ed25519', vector('body-sha256'))), canonicalEd);
  assert.equal(utf8(canonicalEs).length, 183);
  assert.equal(createHash('sha256').update(canonicalEs).digest('hex'), vector('canonical-es256-sha256'));
  const inline = /As a single JSON string, to leave no doubt about the separators:\n`("[^`]+")`/.exec(doc)?.[1];
  assert.equal(JSON.parse(inline ?? 'null'), canonicalEs);
});

test('the documented keys agree with each other in every format', () => {
  const esPriv = JSON.parse(vector('es256-private-jwk')) as JsonWebKey;
  const esPub = parseDevicePublicKey(JSON.parse(vector('es256-public-jwk')));
  assert.deepEqual(parseDevicePublicKey(vector('es256-public-spki')), esPub);
  assert.equal(createPublicKey(createPrivateKey({ key: esPriv as never, format: 'jwk' })).export({ format: 'der', type: 'spki' }).toString('base64url'), esPub.spki);
  // The same P-256 point in compressed SPKI form names the same key.
  const der = Buffer.from(base64urlDecode(esPub.spki));
  const compressed = Buffer.concat([
    Buffer.from('3039301306072a8648ce3d020106082a8648ce3d030107032200', 'hex'),
    Buffer.from([2 + (der[90]! & 1)]),
    der.subarray(27, 59),
  ]);
  const fromCompressed = parseDevicePublicKey(compressed.toString('base64url'));
  assert.equal(fromCompressed.thumbprint, esPub.thumbprint);
  assert.equal(verifyDeviceSignature('ES256', fromCompressed.spki, utf8(canonicalEs), base64urlDecode(vector('signature-es256'))), true);
  const edPriv = JSON.parse(vector('ed25519-private-jwk')) as JsonWebKey;
  const edPub = parseDevicePublicKey(vector('ed25519-public-spki'));
  assert.deepEqual(parseDevicePublicKey({ kty: 'OKP', crv: 'Ed25519', x: edPriv.x }), edPub);
  assert.equal(edPub.algorithm, 'Ed25519');
  // RFC 8032 section 7.1, test 1: the documented key is the published one.
  assert.equal(Buffer.from(base64urlDecode(edPriv.x!)).toString('hex'), 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
});

test('the documented ES256 signature verifies; so does its high-S twin and a fresh SDK signature', async () => {
  const spki = parseDevicePublicKey(vector('es256-public-spki')).spki;
  const sig = base64urlDecode(vector('signature-es256'));
  assert.equal(verifyDeviceSignature('ES256', spki, utf8(canonicalEs), sig), true);
  assert.equal(verifyDeviceSignature('ES256', spki, utf8(canonicalEd), sig), false);
  // s -> n - s is the other valid encoding of the same signature; the document says both are accepted.
  const n = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');
  const s = BigInt(`0x${Buffer.from(sig.slice(32)).toString('hex')}`);
  const twin = new Uint8Array(64);
  twin.set(sig.slice(0, 32));
  twin.set(Buffer.from((n - s).toString(16).padStart(64, '0'), 'hex'), 32);
  assert.equal(verifyDeviceSignature('ES256', spki, utf8(canonicalEs), twin), true);
  const privateKey = await importPrivate(JSON.parse(vector('es256-private-jwk')) as JsonWebKey, 'ES256');
  const mine = await signCanonical({ algorithm: 'ES256', privateKey }, canonicalEs);
  assert.equal(verifyDeviceSignature('ES256', spki, utf8(canonicalEs), base64urlDecode(mine)), true);
});

test('the SDK reproduces the documented Ed25519 signature byte for byte', async () => {
  const privateKey = await importPrivate(JSON.parse(vector('ed25519-private-jwk')) as JsonWebKey, 'Ed25519');
  assert.equal(await signCanonical({ algorithm: 'Ed25519', privateKey }, canonicalEd), vector('signature-ed25519'));
  const spki = parseDevicePublicKey(vector('ed25519-public-spki')).spki;
  assert.equal(verifyDeviceSignature('Ed25519', spki, utf8(canonicalEd), base64urlDecode(vector('signature-ed25519'))), true);
});

describe('the documented request, given to the devices service', () => {
  let db: Db & { dispose(): Promise<void> };
  before(async () => {
    db = await freshDb('sqlite', deviceMigrations);
  });
  after(async () => {
    await db.dispose();
  });

  test('is accepted from both documented keys at the documented time, once', async () => {
    const clock = new ManualClock(new Date(Number(h(HEADERS.timestamp))));
    const queue = ['term_vector_es256', 'term_vector_ed25519'];
    const ids: IdGenerator = { next: () => queue.shift() ?? 'term_extra' };
    const service = createDevicesService({ repo: new DeviceRepo(db), clock, ids, random: cryptoRandom, codeSecret: Buffer.alloc(32, 1), storeBelongsTo: async () => true });
    for (const key of [vector('es256-public-jwk'), vector('ed25519-public-spki')]) {
      const { activation } = await service.createTerminal({ merchantId: 'mer_doc', storeId: 'sto_doc' });
      await service.activate({ code: activation.code, publicKey: key.startsWith('{') ? JSON.parse(key) : key });
    }
    const es = await service.authenticate(req);
    assert.equal(es.terminalId, 'term_vector_es256');
    const ed = await service.authenticate({
      ...req,
      headers: { ...req.headers, [HEADERS.deviceId]: 'term_vector_ed25519', [HEADERS.signature]: vector('signature-ed25519') },
    });
    assert.equal(ed.algorithm, 'Ed25519');
    await assert.rejects(service.authenticate(req), { code: 'device_nonce_reused' });
  });
});

test('the error table lists exactly the codes the module throws, with their kinds', () => {
  const table = /<!-- errors:start -->\n([\s\S]*?)<!-- errors:end -->/.exec(doc)?.[1] ?? '';
  const rows = [...table.matchAll(/^\| `([a-z_]+)` \| ([a-z_]+) \| (\d{3}) \|/gm)];
  const documented = Object.fromEntries(rows.map((r) => [r[1], r[2]]));
  assert.deepEqual(documented, { ...DEVICE_ERROR_CODES });
  for (const r of rows) assert.equal(Number(r[3]), statusForKind(r[2] as ErrorKind, r[1]), `status of ${r[1]}`);
});
