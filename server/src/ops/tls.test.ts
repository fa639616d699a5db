import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, statSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { serve, type Served } from '../cli/start.ts';
import { ConfigError, loadConfig } from '../config/index.ts';
import { testPlatform, type TestPlatform } from '../testing.ts';
import { describeCertificate, makeLocalCa, reachableHosts, spkiHash, writeLocalCa } from './index.ts';

/** shop.test is resolved to 127.0.0.1, as a shop's router would resolve shop.lan to the server. */
const lookup: LookupFunction = (_host, opts, cb) => {
  if ((opts as { all?: boolean }).all) (cb as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address: '127.0.0.1', family: 4 }]);
  else cb(null, '127.0.0.1', 4);
};

function get(url: string, opts: https.RequestOptions = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  const client = url.startsWith('https:') ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.get(url, { lookup, agent: false, ...opts }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
  });
}

describe('local CA', () => {
  test('names every host and address given (and localhost), signs with a CA that may sign nothing but servers, files owner-only', () => {
    const files = makeLocalCa({ hosts: ['Shop.LAN'], ips: ['192.168.1.20', '::1'], now: new Date('2026-12-07T00:00:00Z') });
    const info = describeCertificate(files.certPem);
    assert.deepEqual(info.dnsNames, ['shop.lan', 'localhost']);
    assert.deepEqual(info.ips.sort(), ['127.0.0.1', '192.168.1.20', '0:0:0:0:0:0:0:1'].sort());
    const ca = new X509Certificate(files.caPem);
    const cert = new X509Certificate(files.certPem);
    assert.ok(cert.verify(ca.publicKey), 'the server certificate is signed by the CA');
    assert.ok(cert.checkIssued(ca));
    assert.equal(ca.ca, true);
    assert.equal(cert.ca, false);
    const days = (info.validTo.getTime() - Date.parse('2026-12-07T00:00:00Z')) / 86_400_000;
    assert.ok(days <= 825, `at most 825 days (Apple's limit), got ${days}`);
    const dir = join(mkdtempSync(join(tmpdir(), 'fp-tls-')), 'tls');
    const paths = writeLocalCa(dir, files);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    for (const p of paths) assert.equal(statSync(p).mode & 0o777, 0o600, p);
    assert.throws(() => writeLocalCa(dir, files), /already exist/);
    writeLocalCa(dir, files, true);
  });

  test('refuses what is not a host name or an address', () => {
    const now = new Date();
    assert.throws(() => makeLocalCa({ hosts: ['shop lan'], ips: [], now }), /not a host name/);
    assert.throws(() => makeLocalCa({ hosts: ['10.0.0.1'], ips: [], now }), /addresses go in --ip/);
    assert.throws(() => makeLocalCa({ hosts: [], ips: ['300.1.1.1'], now }), /not an IP address/);
    assert.throws(() => makeLocalCa({ hosts: [], ips: [], now }), /at least one/);
  });

  test('the certificate and key go together in the configuration', () => {
    assert.throws(() => loadConfig({ FACEPAY_TLS_CERT: 'a.pem' }), ConfigError);
    const c = loadConfig({ FACEPAY_TLS_CERT: 'tls/server.pem', FACEPAY_TLS_KEY: 'tls/server-key.pem' }, '/srv');
    assert.deepEqual(c.tls, { certFile: '/srv/tls/server.pem', keyFile: '/srv/tls/server-key.pem', caFile: '/srv/tls/ca.pem' });
  });

  test('on every interface the banner lists localhost and each external IPv4 address, not internal or IPv6 ones', () => {
    const nic = (address: string, family: 'IPv4' | 'IPv6', internal: boolean) => ({ address, family, internal, netmask: '', mac: '', cidr: null }) as never;
    const ifs = { lo: [nic('127.0.0.1', 'IPv4', true)], wlan0: [nic('192.168.1.20', 'IPv4', false), nic('fe80::1', 'IPv6', false)], eth0: [nic('10.0.0.7', 'IPv4', false)] };
    assert.deepEqual(reachableHosts('0.0.0.0', ifs), ['localhost', '192.168.1.20', '10.0.0.7']);
    assert.deepEqual(reachableHosts('127.0.0.1', ifs), ['127.0.0.1']);
  });
});

describe('HTTPS', () => {
  let p: TestPlatform;
  let served: Served;
  let ca: string;
  let port: number;
  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fp-https-'));
    const files = makeLocalCa({ hosts: ['shop.test'], ips: [], now: new Date() });
    writeLocalCa(dir, files);
    ca = files.caPem;
    p = await testPlatform('sqlite', {
      env: { PORT: '0', FACEPAY_TLS_CERT: join(dir, 'server.pem'), FACEPAY_TLS_KEY: join(dir, 'server-key.pem'), FACEPAY_HTTP_PORT: '0' },
    });
    served = await serve(p);
    port = Number(new URL(served.origins[0]!).port);
  });
  after(async () => {
    await served.close();
    await p.dispose();
  });

  test('a client that trusts the local CA gets the API over HTTPS at the shop name, with HSTS', async () => {
    assert.equal(served.origins[0], `https://shop.test:${port}`);
    const r = await get(`https://shop.test:${port}/health/ready`, { ca });
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.body.toString()).status, 'ready');
    assert.match(String(r.headers['strict-transport-security']), /max-age=31536000/);
    const api = await get(`https://shop.test:${port}/v1/payment_intents`, { ca, headers: p.auth });
    assert.equal(api.status, 200);
  });

  test('a client that does not trust it is refused, and so is a name the certificate does not carry', async () => {
    await assert.rejects(get(`https://shop.test:${port}/health/live`), (e: NodeJS.ErrnoException) => /CERT|SELF_SIGNED|UNABLE/.test(String(e.code)));
    await assert.rejects(get(`https://other.test:${port}/health/live`, { ca }), (e: NodeJS.ErrnoException) => e.code === 'ERR_TLS_CERT_ALTNAME_INVALID');
  });

  test('plain HTTP redirects to the same path over HTTPS, and offers the CA certificate before any trust', async () => {
    const r = await get(`http://shop.test:${served.redirectPort}/terminal/?a=1`);
    assert.equal(r.status, 308);
    assert.equal(r.headers.location, `https://shop.test:${port}/terminal/?a=1`);
    const odd = await get(`http://127.0.0.1:${served.redirectPort}/x`, { headers: { host: 'evil"<>' } });
    assert.equal(odd.headers.location, `https://shop.test:${port}/x`, 'an odd Host header is not echoed');
    const der = await get(`http://shop.test:${served.redirectPort}/ca.crt`);
    assert.equal(der.status, 200);
    assert.equal(der.headers['content-type'], 'application/x-x509-ca-cert');
    assert.equal(new X509Certificate(der.body).fingerprint256, new X509Certificate(ca).fingerprint256);
    const overTls = await get(`https://shop.test:${port}/ca.pem`, { ca });
    assert.equal(overTls.body.toString(), ca);
    assert.equal(spkiHash(ca).length, 44);
  });

  test("the console reads the CA's fingerprint to show beside its QR code", async () => {
    const r = await get(`https://shop.test:${port}/v1/tls/ca`, { ca });
    assert.equal(r.status, 200);
    const body = JSON.parse(r.body.toString()) as { sha256_fingerprint: string; paths: string[]; http_port: number | null };
    assert.equal(body.sha256_fingerprint, new X509Certificate(ca).fingerprint256);
    assert.deepEqual(body.paths, ['/ca.crt', '/ca.pem']);
    // FACEPAY_HTTP_PORT=0 takes any free port, which the API cannot know ahead: the console then offers the HTTPS address.
    assert.equal(body.http_port, null);
  });
});
