/**
 * The wire rules of the Facepay device protocol (docs/device-protocol.md), with no dependency on a
 * browser, on Node or on the server. Both the SDK (to sign) and the server (to verify) build the
 * canonical string with this one module, so the two sides cannot disagree about a byte.
 */

/** The first line of every canonical string: names the scheme so a signature made for it means nothing elsewhere. */
export const SIGNATURE_SCHEME = 'FACEPAY-DEVICE-SIG-V1';

/** Request headers, in the lower case HTTP/2 and Node use; HTTP header names are case-insensitive. */
export const HEADERS = {
  deviceId: 'facepay-device-id',
  timestamp: 'facepay-timestamp',
  nonce: 'facepay-nonce',
  signature: 'facepay-signature',
} as const;

/** The signature algorithms a device key may use; the algorithm is fixed by the key at activation. */
export type DeviceAlgorithm = 'ES256' | 'Ed25519';
export const DEVICE_ALGORITHMS: readonly DeviceAlgorithm[] = ['ES256', 'Ed25519'];

/** Decimal milliseconds since the Unix epoch, no sign, no leading zero. */
export const TIMESTAMP_PATTERN = /^[1-9][0-9]{0,15}$/;
/** 16 to 64 characters of the base64url alphabet; the SDK sends 22 (16 random bytes). */
export const NONCE_PATTERN = /^[A-Za-z0-9_-]{16,64}$/;
/** Device ids are issued by the server; this only keeps the canonical string free of separators. */
export const DEVICE_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** An HTTP method token in upper case. */
export const METHOD_PATTERN = /^[A-Z]{1,16}$/;
/** An origin-form request target: starts with `/`, printable ASCII without spaces (RFC 9112 section 3.2.1). */
export const PATH_PATTERN = /^\/[\x21-\x7e]*$/;
/** The lower-case hex SHA-256 of the body. */
export const DIGEST_PATTERN = /^[0-9a-f]{64}$/;
/** The SHA-256 of zero bytes: the digest of every request without a body. */
export const EMPTY_BODY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export interface CanonicalRequest {
  method: string;
  /** The request target exactly as sent on the request line: path, then `?` and the query if any. */
  path: string;
  deviceId: string;
  timestamp: string;
  nonce: string;
  /** Lower-case hex SHA-256 of the exact body bytes. */
  bodySha256: string;
}

/**
 * The exact string that is signed, UTF-8 encoded (every part is ASCII): seven lines joined by a
 * single LF, with no trailing newline. Throws on a part that does not match its pattern so that a
 * signer never produces a signature the server would have to interpret.
 */
export function canonicalString(r: CanonicalRequest): string {
  if (!METHOD_PATTERN.test(r.method)) throw new Error('method must be an upper-case HTTP method');
  if (!PATH_PATTERN.test(r.path)) throw new Error('path must be an origin-form request target');
  if (!DEVICE_ID_PATTERN.test(r.deviceId)) throw new Error('device id is malformed');
  if (!TIMESTAMP_PATTERN.test(r.timestamp)) throw new Error('timestamp must be decimal epoch milliseconds');
  if (!NONCE_PATTERN.test(r.nonce)) throw new Error('nonce must be 16 to 64 base64url characters');
  if (!DIGEST_PATTERN.test(r.bodySha256)) throw new Error('body digest must be 64 lower-case hex digits');
  return [SIGNATURE_SCHEME, r.method, r.path, r.deviceId, r.timestamp, r.nonce, r.bodySha256].join('\n');
}

const encoder = new TextEncoder();

export function utf8(text: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(text);
}

export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** base64url (RFC 4648 section 5) without padding. */
export function base64urlEncode(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += B64URL[n >> 18]! + B64URL[(n >> 12) & 63]! + B64URL[(n >> 6) & 63]! + B64URL[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += B64URL[n >> 18]! + B64URL[(n >> 12) & 63]!;
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += B64URL[n >> 18]! + B64URL[(n >> 12) & 63]! + B64URL[(n >> 6) & 63]!;
  }
  return out;
}

/**
 * Strict base64url decoding: only the url-safe alphabet, no padding, no whitespace, and no stray
 * bits in the last character, so that one byte string has exactly one accepted text form.
 */
export function base64urlDecode(text: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) throw new Error('not unpadded base64url');
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let bits = 0;
  let acc = 0;
  let o = 0;
  for (const ch of text) {
    acc = (acc << 6) | B64URL.indexOf(ch);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  if ((acc & ((1 << bits) - 1)) !== 0) throw new Error('not canonical base64url');
  return out;
}

/** Lower-case hex SHA-256 of the body, with the platform's WebCrypto (browsers and Node 20). */
export async function sha256Hex(body: Uint8Array): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', body as Uint8Array<ArrayBuffer>);
  return toHex(new Uint8Array(digest));
}
