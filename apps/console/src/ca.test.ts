import assert from 'node:assert/strict';
import { test } from 'node:test';
import { caUrl } from './ca-url.ts';

test('the QR code points a tablet at the plain-HTTP copy of the CA when there is one, else at this address', () => {
  const info = { sha256_fingerprint: 'AB', http_port: 3080 };
  assert.equal(caUrl(info, { protocol: 'https:', hostname: 'shop.lan', origin: 'https://shop.lan:3443' }), 'http://shop.lan:3080/ca.crt');
  assert.equal(caUrl({ ...info, http_port: 80 }, { protocol: 'https:', hostname: '192.168.1.20', origin: 'https://192.168.1.20' }), 'http://192.168.1.20/ca.crt');
  const v6 = new URL('https://[fd00::1]:3443/console/');
  assert.equal(caUrl(info, v6), 'http://[fd00::1]:3080/ca.crt');
  assert.equal(caUrl(info, { protocol: 'https:', hostname: 'fd00::1', origin: 'https://[fd00::1]:3443' }), 'http://[fd00::1]:3080/ca.crt');
  assert.equal(caUrl({ ...info, http_port: null }, { protocol: 'https:', hostname: 'shop.lan', origin: 'https://shop.lan:3443' }), 'https://shop.lan:3443/ca.crt');
});
