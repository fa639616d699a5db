import { createCipheriv, createDecipheriv, createHash, createHmac } from 'node:crypto';
import { endianness } from 'node:os';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DomainError } from '../platform/index.ts';
import type { Random } from '../platform/index.ts';

/**
 * Envelope encryption. A master key (from configuration, never stored in the database) wraps
 * data keys; the data keys, stored wrapped in `gallery_keys`, encrypt the templates. Each
 * template row names its data key, so a new data key can take over for new rows while old rows
 * stay readable, and a new master key only has to re-wrap a handful of data keys.
 */
export interface MasterKey {
  /** A fingerprint of the key (not the key): lets a row say which master key wrapped it. */
  readonly id: string;
  readonly key: Buffer;
}

export interface MasterKeyring {
  current: MasterKey;
  /** Earlier master keys, still accepted for unwrapping until every data key is re-wrapped. */
  previous: MasterKey[];
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

export function masterKeyFromBytes(key: Buffer): MasterKey {
  if (key.length !== 32) throw new DomainError('invalid', 'bad_master_key', 'the master key must be 32 bytes');
  const id = 'mk_' + createHash('sha256').update('facepay gallery master key id\0').update(key).digest('hex').slice(0, 16);
  return { id, key };
}

export function masterKeyFromBase64(text: string): MasterKey {
  return masterKeyFromBytes(Buffer.from(text.trim(), 'base64'));
}

export interface MasterKeySource {
  ring: MasterKeyring;
  /** True when the key is the generated development key rather than one from configuration. */
  development: boolean;
  /** Where a development key lives, for the start-up warning. */
  file?: string;
  /**
   * A configured key on a data directory that ran on the development key: that key is kept in
   * `previous` so the data keys it wrapped can be re-wrapped with the configured one at start.
   */
  retiredDevelopmentKey?: { id: string; file: string };
}

/**
 * Reads FACEPAY_MASTER_KEY (32 bytes, base64) and FACEPAY_MASTER_KEY_PREVIOUS (comma-separated,
 * for rotation). Without a configured key, a random development key is created on first start and
 * kept in `<dataDir>/gallery-dev-master.key`: convenient for `npm start`, but anyone who can read
 * the data directory can then decrypt the templates, so production must configure a key.
 */
export function loadMasterKeys(env: NodeJS.ProcessEnv, dataDir: string, random: Random): MasterKeySource {
  const previous = (env.FACEPAY_MASTER_KEY_PREVIOUS ?? '')
    .split(',')
    .filter((s) => s.trim().length > 0)
    .map(masterKeyFromBase64);
  const file = join(dataDir, 'gallery-dev-master.key');
  if (env.FACEPAY_MASTER_KEY) {
    const current = masterKeyFromBase64(env.FACEPAY_MASTER_KEY);
    if (existsSync(file)) {
      const dev = masterKeyFromBase64(readFileSync(file, 'utf8'));
      if (dev.id !== current.id && !previous.some((k) => k.id === dev.id)) {
        return { ring: { current, previous: [...previous, dev] }, development: false, retiredDevelopmentKey: { id: dev.id, file } };
      }
    }
    return { ring: { current, previous }, development: false };
  }
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    writeFileSync(file, `${random.bytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  }
  return { ring: { current: masterKeyFromBase64(readFileSync(file, 'utf8')), previous }, development: true, file };
}

/** AES-256-GCM: `iv | tag | ciphertext`, with the associated data binding it to its row. */
export function seal(key: Buffer, plain: Buffer, aad: string, random: Random): Buffer {
  const iv = random.bytes(IV_BYTES);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([c.update(plain), c.final()]);
  return Buffer.concat([iv, c.getAuthTag(), body]);
}

export function open(key: Buffer, sealed: Buffer, aad: string): Buffer {
  if (sealed.length < IV_BYTES + TAG_BYTES) throw new DomainError('unprocessable', 'template_corrupt', 'a sealed value is truncated');
  const d = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES));
  d.setAAD(Buffer.from(aad, 'utf8'));
  d.setAuthTag(sealed.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  try {
    return Buffer.concat([d.update(sealed.subarray(IV_BYTES + TAG_BYTES)), d.final()]);
  } catch {
    throw new DomainError('unprocessable', 'template_corrupt', 'a sealed value failed authentication');
  }
}

export function wrapDataKey(master: MasterKey, dataKeyId: string, dataKey: Buffer, random: Random): Buffer {
  return seal(master.key, dataKey, `gallery data key ${dataKeyId}`, random);
}

export function unwrapDataKey(master: MasterKey, dataKeyId: string, wrapped: Buffer): Buffer {
  return open(master.key, wrapped, `gallery data key ${dataKeyId}`);
}

// Vectors are stored as little-endian float32; copying typed arrays byte for byte is only right
// on a little-endian host, which every platform Node ships for is.
if (endianness() !== 'LE') throw new Error('the gallery stores float32 little-endian and needs a little-endian host');

/** Float32 bytes of a vector (a copy, so the caller's buffer is never aliased). */
export function vectorToBytes(v: Float32Array): Buffer {
  return Buffer.from(Float32Array.from(v).buffer);
}

export function bytesToVector(b: Buffer): Float32Array {
  if (b.length % 4 !== 0) throw new DomainError('unprocessable', 'template_corrupt', 'a template has a partial float');
  const out = new Float32Array(b.length / 4);
  new Uint8Array(out.buffer).set(b);
  return out;
}

/** What a template's ciphertext is bound to: moving it to another row or shopper breaks it. */
export function templateAad(t: { id: string; shopperId: string; modelName: string; modelVersion: string; dim: number }): string {
  return `gallery template ${t.id}|${t.shopperId}|${t.modelName}|${t.modelVersion}|${t.dim}`;
}

/**
 * The phone suffix is stored as an HMAC, keyed by a data key of its own. Only 10,000 suffixes
 * exist, so the MAC protects them only as long as the key stays out of the database's reach.
 */
export function phoneSuffixMac(key: Buffer, digits: string): string {
  return createHmac('sha256', key).update(`phone suffix ${digits}`).digest('base64url');
}

export function randomDataKey(random: Random): Buffer {
  return random.bytes(32);
}
