import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { EMPTY_BODY_SHA256, SIGNATURE_SCHEME, base64urlDecode, base64urlEncode, canonicalString, sha256Hex, utf8 } from './protocol.ts';

test('base64url agrees with Node for every length and round-trips', () => {
  for (let n = 0; n < 70; n++) {
    const bytes = randomBytes(n);
    const text = base64urlEncode(bytes);
    assert.equal(text, bytes.toString('base64url'));
    assert.deepEqual(Buffer.from(base64urlDecode(text)), bytes);
  }
});

test('base64url decoding is strict: no padding, no other alphabet, no stray bits', () => {
  assert.throws(() => base64urlDecode('AAE='));
  assert.throws(() => base64urlDecode('a+b/'));
  assert.throws(() => base64urlDecode('AAE A'));
  assert.throws(() => base64urlDecode('A'));
  // "AB" carries one byte and four leftover bits that must be zero: "AA" is the canonical form of 0x00.
  assert.throws(() => base64urlDecode('AB'));
  assert.deepEqual([...base64urlDecode('AA')], [0]);
});

test('the digest of an empty body is the constant, and digests are lower-case hex', async () => {
  assert.equal(await sha256Hex(new Uint8Array(0)), EMPTY_BODY_SHA256);
  const body = utf8('{"amount":1250}');
  assert.equal(await sha256Hex(body), createHash('sha256').update(body).digest('hex'));
});

test('the canonical string is seven LF-separated lines with no trailing newline', () => {
  const s = canonicalString({
    method: 'POST',
    path: '/device/v1/payments?x=1',
    deviceId: 'term_1',
    timestamp: '1764064800000',
    nonce: 'AAAAAAAAAAAAAAAAAAAAAA',
    bodySha256: EMPTY_BODY_SHA256,
  });
  assert.equal(s, [SIGNATURE_SCHEME, 'POST', '/device/v1/payments?x=1', 'term_1', '1764064800000', 'AAAAAAAAAAAAAAAAAAAAAA', EMPTY_BODY_SHA256].join('\n'));
  assert.ok(!s.endsWith('\n'));
});

test('the canonical string refuses parts that could smuggle a separator or be read two ways', () => {
  const ok = { method: 'GET', path: '/x', deviceId: 'term_1', timestamp: '1764064800000', nonce: 'AAAAAAAAAAAAAAAAAAAAAA', bodySha256: EMPTY_BODY_SHA256 };
  assert.doesNotThrow(() => canonicalString(ok));
  for (const bad of [
    { method: 'get' },
    { path: 'x' },
    { path: '/a b' },
    { path: '/a\nGET' },
    { deviceId: 'a\nb' },
    { timestamp: '01764064800000' },
    { timestamp: '-1' },
    { nonce: 'short' },
    { bodySha256: EMPTY_BODY_SHA256.toUpperCase() },
  ]) {
    assert.throws(() => canonicalString({ ...ok, ...bad }), Error, JSON.stringify(bad));
  }
});
