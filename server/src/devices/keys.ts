import { type KeyObject, createHash, createPublicKey, verify } from 'node:crypto';
import { type DeviceAlgorithm, base64urlDecode, base64urlEncode } from '@facepay/device-sdk/protocol';
import { DomainError } from '../platform/index.ts';
import { deviceError } from './errors.ts';

export interface DevicePublicKey {
  algorithm: DeviceAlgorithm;
  /** DER SubjectPublicKeyInfo, base64url: the form stored and verified against. */
  spki: string;
  /** RFC 7638 JWK thumbprint (SHA-256, base64url): a short, stable name for the key. */
  thumbprint: string;
}

function keyInvalid(message: string): DomainError {
  return deviceError('device_key_invalid', message);
}

function unsupported(message: string): DomainError {
  return deviceError('device_key_unsupported', message);
}

function b64urlBytes(value: unknown, what: string, length: number): void {
  if (typeof value !== 'string') throw keyInvalid(`${what} must be a base64url string`);
  let bytes: Uint8Array;
  try {
    bytes = base64urlDecode(value);
  } catch {
    throw keyInvalid(`${what} is not unpadded base64url`);
  }
  if (bytes.length !== length) throw keyInvalid(`${what} must be ${length} bytes`);
}

function fromJwk(jwk: Record<string, unknown>): KeyObject {
  if ('d' in jwk) throw keyInvalid('the JWK holds a private key: send the public key only');
  if (jwk.kty === 'EC') {
    if (jwk.crv !== 'P-256') throw unsupported(`curve ${String(jwk.crv)} is not supported: use P-256 or Ed25519`);
    b64urlBytes(jwk.x, 'x', 32);
    b64urlBytes(jwk.y, 'y', 32);
    return createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: jwk.x as string, y: jwk.y as string }, format: 'jwk' });
  }
  if (jwk.kty === 'OKP') {
    if (jwk.crv !== 'Ed25519') throw unsupported(`curve ${String(jwk.crv)} is not supported: use P-256 or Ed25519`);
    b64urlBytes(jwk.x, 'x', 32);
    return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x as string }, format: 'jwk' });
  }
  throw unsupported(`key type ${String(jwk.kty)} is not supported: use EC P-256 or OKP Ed25519`);
}

function fromSpkiText(text: string): KeyObject {
  const trimmed = text.trim();
  if (trimmed.startsWith('-----BEGIN PUBLIC KEY-----')) return createPublicKey({ key: trimmed, format: 'pem' });
  let der: Uint8Array;
  try {
    der = base64urlDecode(trimmed);
  } catch {
    throw keyInvalid('a key given as a string must be DER SPKI in base64url, or PEM');
  }
  return createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' });
}

function algorithmOf(key: KeyObject): DeviceAlgorithm {
  if (key.asymmetricKeyType === 'ed25519') return 'Ed25519';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  throw unsupported('only ECDSA P-256 and Ed25519 keys are supported');
}

/** RFC 7638: the required members in lexicographic order, no whitespace, SHA-256. */
function thumbprint(key: KeyObject, algorithm: DeviceAlgorithm): string {
  const jwk = key.export({ format: 'jwk' });
  const canonical =
    algorithm === 'ES256'
      ? JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y })
      : JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x });
  return base64urlEncode(createHash('sha256').update(canonical).digest());
}

/**
 * A device's public key from what it sent at activation: a JWK object, or a string holding DER
 * SPKI (base64url) or PEM. The key is parsed by OpenSSL, so a point off the curve is refused.
 */
export function parseDevicePublicKey(input: unknown): DevicePublicKey {
  let key: KeyObject;
  try {
    if (typeof input === 'string') key = fromSpkiText(input);
    else if (typeof input === 'object' && input !== null && !Array.isArray(input)) key = fromJwk(input as Record<string, unknown>);
    else throw keyInvalid('public_key must be a JWK object or a DER SPKI string');
  } catch (e) {
    if (e instanceof DomainError) throw e;
    throw keyInvalid(`the public key cannot be read: ${(e as Error).message}`);
  }
  if (key.type !== 'public') throw keyInvalid('send the public key only');
  const algorithm = algorithmOf(key);
  const spki = base64urlEncode(key.export({ format: 'der', type: 'spki' }));
  return { algorithm, spki, thumbprint: thumbprint(key, algorithm) };
}

const keyCache = new Map<string, KeyObject>();
const KEY_CACHE_MAX = 4096;

function keyObject(spki: string): KeyObject {
  let key = keyCache.get(spki);
  if (key === undefined) {
    key = createPublicKey({ key: Buffer.from(base64urlDecode(spki)), format: 'der', type: 'spki' });
    if (keyCache.size >= KEY_CACHE_MAX) keyCache.clear();
    keyCache.set(spki, key);
  }
  return key;
}

/**
 * Checks a signature as the protocol defines it: ES256 is ECDSA P-256 over SHA-256 with the
 * signature as IEEE P1363 r||s (64 bytes); Ed25519 is RFC 8032 pure Ed25519 (64 bytes).
 */
export function verifyDeviceSignature(algorithm: DeviceAlgorithm, spki: string, data: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== 64) return false;
  const key = keyObject(spki);
  try {
    return algorithm === 'ES256'
      ? verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature)
      : verify(null, data, key, signature);
  } catch {
    return false;
  }
}
