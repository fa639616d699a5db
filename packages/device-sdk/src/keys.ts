/**
 * Device keys with WebCrypto. The private key is generated non-extractable: no code, ours
 * included, can read it out of the browser or the Node process, only ask it to sign.
 */
import { type DeviceAlgorithm, base64urlEncode, utf8 } from './protocol.ts';

type Subtle = SubtleCrypto;

function subtle(): Subtle {
  const s = globalThis.crypto?.subtle;
  if (s === undefined) throw new Error('WebCrypto is unavailable (a browser needs a secure context: https or localhost)');
  return s;
}

function keyAlgorithm(alg: DeviceAlgorithm): EcKeyGenParams | Algorithm {
  return alg === 'ES256' ? { name: 'ECDSA', namedCurve: 'P-256' } : { name: 'Ed25519' };
}

function signAlgorithm(alg: DeviceAlgorithm): EcdsaParams | Algorithm {
  return alg === 'ES256' ? { name: 'ECDSA', hash: 'SHA-256' } : { name: 'Ed25519' };
}

/** A device key pair: the private half can sign and never leave; the public half is sent at activation. */
export interface DeviceKeyPair {
  algorithm: DeviceAlgorithm;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}

export async function generateDeviceKeyPair(algorithm: DeviceAlgorithm = 'ES256'): Promise<DeviceKeyPair> {
  const pair = (await subtle().generateKey(keyAlgorithm(algorithm), false, ['sign', 'verify'])) as CryptoKeyPair;
  return { algorithm, privateKey: pair.privateKey, publicKey: pair.publicKey };
}

/** Whether this platform's WebCrypto can make and use Ed25519 keys (Node 20, Chromium 137 and later do). */
export async function supportsEd25519(): Promise<boolean> {
  try {
    const pair = await generateDeviceKeyPair('Ed25519');
    await signBytes(pair, new Uint8Array(1));
    return true;
  } catch {
    return false;
  }
}

/** The public key as a JWK with only the members the server needs (kty, crv, x and, for P-256, y). */
export async function exportPublicJwk(pair: DeviceKeyPair): Promise<JsonWebKey> {
  const jwk = await subtle().exportKey('jwk', pair.publicKey);
  return pair.algorithm === 'ES256'
    ? { kty: 'EC', crv: 'P-256', x: jwk.x!, y: jwk.y! }
    : { kty: 'OKP', crv: 'Ed25519', x: jwk.x! };
}

/** The public key as DER SubjectPublicKeyInfo, base64url: the other format activation accepts. */
export async function exportPublicSpki(pair: DeviceKeyPair): Promise<string> {
  return base64urlEncode(new Uint8Array(await subtle().exportKey('spki', pair.publicKey)));
}

/**
 * Signs bytes. For ES256 WebCrypto already returns IEEE P1363 (r then s, 32 bytes each), which
 * is the encoding the protocol uses; Ed25519 signatures are 64 bytes by definition.
 */
export async function signBytes(pair: Pick<DeviceKeyPair, 'algorithm' | 'privateKey'>, data: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await subtle().sign(signAlgorithm(pair.algorithm), pair.privateKey, data as Uint8Array<ArrayBuffer>));
}

/** Signs a canonical string and returns the header value: base64url without padding. */
export async function signCanonical(pair: Pick<DeviceKeyPair, 'algorithm' | 'privateKey'>, canonical: string): Promise<string> {
  return base64urlEncode(await signBytes(pair, utf8(canonical)));
}

/** 16 random bytes as base64url: 22 characters, 128 bits, never reused by chance. */
export function newNonce(): string {
  return base64urlEncode(globalThis.crypto.getRandomValues(new Uint8Array(16)));
}
