import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryKeyStore } from './key-store.ts';
import { exportPublicJwk, exportPublicSpki, generateDeviceKeyPair, newNonce, signBytes, supportsEd25519 } from './keys.ts';
import { NONCE_PATTERN, base64urlDecode } from './protocol.ts';

for (const algorithm of ['ES256', 'Ed25519'] as const) {
  test(`${algorithm}: the private key cannot be exported, and signatures are 64 bytes that verify`, async () => {
    const pair = await generateDeviceKeyPair(algorithm);
    assert.equal(pair.privateKey.extractable, false);
    await assert.rejects(crypto.subtle.exportKey('pkcs8', pair.privateKey));
    await assert.rejects(crypto.subtle.exportKey('jwk', pair.privateKey));
    const data = new TextEncoder().encode('hello');
    const sig = await signBytes(pair, data);
    assert.equal(sig.length, 64);
    const params = algorithm === 'ES256' ? { name: 'ECDSA', hash: 'SHA-256' } : { name: 'Ed25519' };
    assert.equal(await crypto.subtle.verify(params, pair.publicKey, sig, data), true);
    assert.equal(await crypto.subtle.verify(params, pair.publicKey, sig, new TextEncoder().encode('hellO')), false);
  });

  test(`${algorithm}: the public JWK holds only public members; SPKI is base64url DER`, async () => {
    const pair = await generateDeviceKeyPair(algorithm);
    const jwk = await exportPublicJwk(pair);
    assert.deepEqual(Object.keys(jwk).sort(), algorithm === 'ES256' ? ['crv', 'kty', 'x', 'y'] : ['crv', 'kty', 'x']);
    const der = base64urlDecode(await exportPublicSpki(pair));
    assert.equal(der.length, algorithm === 'ES256' ? 91 : 44);
  });
}

test('Node 20 supports Ed25519 in WebCrypto', async () => {
  assert.equal(await supportsEd25519(), true);
});

test('nonces are 22 base64url characters and do not repeat', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 1000; i++) {
    const n = newNonce();
    assert.match(n, NONCE_PATTERN);
    assert.equal(n.length, 22);
    seen.add(n);
  }
  assert.equal(seen.size, 1000);
});

test('the memory key store keeps and forgets an identity', async () => {
  const store = new MemoryKeyStore();
  assert.equal(await store.load(), undefined);
  const pair = await generateDeviceKeyPair();
  await store.save({ deviceId: 'term_1', ...pair });
  assert.equal((await store.load())?.deviceId, 'term_1');
  assert.equal((await store.load())?.privateKey, pair.privateKey);
  await store.clear();
  assert.equal(await store.load(), undefined);
});
