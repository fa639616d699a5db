import { createHash } from 'node:crypto';
import {
  DEVICE_ID_PATTERN,
  type DeviceAlgorithm,
  HEADERS,
  NONCE_PATTERN,
  TIMESTAMP_PATTERN,
  base64urlDecode,
  canonicalString,
  utf8,
} from '@facepay/device-sdk/protocol';
import type { Clock, IdGenerator, Random } from '../platform/index.ts';
import { deviceError } from './errors.ts';
import { hashActivationCode, newActivationCode, normaliseActivationCode } from './activation-code.ts';
import { parseDevicePublicKey, verifyDeviceSignature } from './keys.ts';
import type { DeviceRepo, TerminalRow, TerminalStatus } from './repo.ts';

export interface DevicesConfig {
  /** How long an activation code can be used. */
  activationCodeTtlMs: number;
  /** A request is refused when its timestamp is further than this from the server's clock, either way. */
  clockSkewMs: number;
  /** Last-seen is written at most this often per terminal. */
  lastSeenResolutionMs: number;
  /** Expired nonces are deleted at most this often per process. */
  noncePruneIntervalMs: number;
  /** Nonces one device may hold at once (those not yet out of the replay window). */
  maxNoncesPerDevice: number;
}

export const DEFAULT_DEVICES_CONFIG: DevicesConfig = {
  activationCodeTtlMs: 24 * 60 * 60 * 1000,
  clockSkewMs: 5 * 60 * 1000,
  lastSeenResolutionMs: 30 * 1000,
  noncePruneIntervalMs: 60 * 1000,
  // A terminal polling twice a second holds about 600 (a nonce lives 5 to 10 minutes).
  maxNoncesPerDevice: 5000,
};

export interface DevicesServiceDeps {
  repo: DeviceRepo;
  clock: Clock;
  ids: IdGenerator;
  random: Random;
  /**
   * The key of the HMAC under which activation codes are stored (32 bytes or more). It must not be
   * kept in the database: with it, a copy of the database is enough to find every pending code.
   */
  codeSecret: Buffer;
  /** Whether the store exists and belongs to the merchant (the merchants module answers). */
  storeBelongsTo: (merchantId: string, storeId: string) => Promise<boolean>;
  config?: Partial<DevicesConfig>;
}

export interface Terminal {
  id: string;
  merchantId: string;
  storeId: string;
  label: string;
  status: TerminalStatus;
  algorithm: DeviceAlgorithm | null;
  /** RFC 7638 thumbprint of the registered public key, null until activation. */
  keyThumbprint: string | null;
  createdAt: number;
  activatedAt: number | null;
  revokedAt: number | null;
  lastSeenAt: number | null;
}

export interface IssuedActivationCode {
  /** Shown once to the merchant, never stored in clear. */
  code: string;
  expiresAt: number;
}

/** Who sent a request whose signature checked out. */
export interface AuthenticatedDevice {
  terminalId: string;
  merchantId: string;
  storeId: string;
  algorithm: DeviceAlgorithm;
}

export interface DeviceRequest {
  method: string;
  /** The request target exactly as received: path and query. */
  path: string;
  /** Header names in lower case, as Node gives them. */
  headers: Record<string, string | string[] | undefined>;
  /** The exact body bytes received (empty for none). */
  body: Uint8Array;
}

const PRECHECKED = Symbol('prechecked');
const EMPTY_SHA256 = createHash('sha256').digest('hex');

/** A request whose headers passed `precheck`; only `verify` reads it. */
export interface PrecheckedRequest {
  readonly [PRECHECKED]: {
    fields: { method: string; path: string; deviceId: string; timestamp: string; nonce: string };
    sig: Uint8Array;
    ts: number;
    terminal: TerminalRow;
  };
}

export interface DevicesService {
  readonly config: DevicesConfig;
  createTerminal(input: { merchantId: string; storeId: string; label?: string }): Promise<{ terminal: Terminal; activation: IssuedActivationCode }>;
  /** A fresh code for a terminal not yet activated; earlier codes stop working. */
  issueActivationCode(merchantId: string, terminalId: string): Promise<{ terminal: Terminal; activation: IssuedActivationCode }>;
  activate(input: { code: string; publicKey: unknown }): Promise<{ terminal: Terminal; serverTime: number }>;
  /** Checks a device request's headers and signature; throws a DomainError with a `device_*` code when it must be refused. */
  authenticate(request: DeviceRequest): Promise<AuthenticatedDevice>;
  /**
   * The checks that need no body (steps 1 to 3 of docs/device-protocol.md section 4.2): headers,
   * clock, terminal. The HTTP layer runs them before it reads a byte of the body.
   */
  precheck(request: Omit<DeviceRequest, 'body'>): Promise<PrecheckedRequest>;
  /** The signature over the body and the nonce (steps 4 and 5), after `precheck`. */
  verify(pending: PrecheckedRequest, body: Uint8Array): Promise<AuthenticatedDevice>;
  revokeTerminal(merchantId: string, terminalId: string): Promise<Terminal>;
  getTerminal(merchantId: string, terminalId: string): Promise<Terminal>;
  /** The terminal a device is, for its own requests (status, store, last seen). */
  deviceTerminal(device: AuthenticatedDevice): Promise<Terminal>;
  listTerminals(merchantId: string, storeId: string): Promise<Terminal[]>;
  /** The names of some of a merchant's terminals by id (for lists of payments); unknown ids are left out. */
  terminalLabels(merchantId: string, terminalIds: readonly string[]): Promise<Map<string, string>>;
  /** Deletes nonces that can no longer be replayed (their timestamp is out of the window). */
  pruneNonces(): Promise<number>;
  /** The server's time in epoch ms, as devices are told it to correct their clocks. */
  now(): number;
}

function toTerminal(r: TerminalRow): Terminal {
  return {
    id: r.id,
    merchantId: r.merchant_id,
    storeId: r.store_id,
    label: r.label,
    status: r.status,
    algorithm: r.algorithm as DeviceAlgorithm | null,
    keyThumbprint: r.key_thumbprint,
    createdAt: r.created_at,
    activatedAt: r.activated_at,
    revokedAt: r.revoked_at,
    lastSeenAt: r.last_seen_at,
  };
}

const LABEL_MAX = 100;

function cleanLabel(label: string | undefined): string {
  if (label === undefined) return 'Terminal';
  const trimmed = label.trim();
  if (trimmed.length === 0 || trimmed.length > LABEL_MAX || [...trimmed].some((c) => c.charCodeAt(0) < 32 || c.charCodeAt(0) === 127)) {
    throw deviceError('terminal_label_invalid', `a terminal label is 1 to ${LABEL_MAX} printable characters`);
  }
  return trimmed;
}

function header(headers: DeviceRequest['headers'], name: string): string | undefined {
  const v = headers[name];
  if (Array.isArray(v)) {
    throw deviceError('device_auth_malformed', `the ${name} header must appear once`);
  }
  return v;
}

const CODE_ERRORS = {
  invalid: () => deviceError('activation_code_invalid', 'no terminal waits for this activation code'),
  used: () => deviceError('activation_code_used', 'this activation code has already been used'),
  expired: () => deviceError('activation_code_expired', 'this activation code has expired: ask the merchant for a new one'),
};

export function createDevicesService(deps: DevicesServiceDeps): DevicesService {
  const config: DevicesConfig = { ...DEFAULT_DEVICES_CONFIG, ...deps.config };
  const { repo, clock, ids, random } = deps;
  if (deps.codeSecret.length < 32) throw new Error('the activation-code secret must be at least 32 bytes');
  const codeHashOf = (normalised: string): string => hashActivationCode(deps.codeSecret, normalised);
  let lastPrune = Number.NEGATIVE_INFINITY;

  async function ownTerminal(merchantId: string, terminalId: string, r: DeviceRepo = repo, forUpdate = false): Promise<TerminalRow> {
    const row = await r.terminal(terminalId, { forUpdate });
    // Another merchant's terminal is reported as missing, not as forbidden, so ids cannot be probed.
    if (row === undefined || row.merchant_id !== merchantId) {
      throw deviceError('terminal_not_found', `no terminal ${terminalId}`);
    }
    return row;
  }

  async function issueCode(r: DeviceRepo, terminalId: string, now: number): Promise<IssuedActivationCode> {
    const code = newActivationCode(random);
    const expiresAt = now + config.activationCodeTtlMs;
    await r.insertActivationCode({
      code_hash: codeHashOf(normaliseActivationCode(code)!),
      terminal_id: terminalId,
      created_at: now,
      expires_at: expiresAt,
      used_at: null,
    });
    return { code, expiresAt };
  }

  const service: DevicesService = {
    config,

    async createTerminal(input) {
      const label = cleanLabel(input.label);
      if (!(await deps.storeBelongsTo(input.merchantId, input.storeId))) {
        throw deviceError('store_not_found', `no store ${input.storeId}`);
      }
      const now = clock.now().getTime();
      const row: TerminalRow = {
        id: ids.next('term'),
        merchant_id: input.merchantId,
        store_id: input.storeId,
        label,
        status: 'pending',
        algorithm: null,
        public_key_spki: null,
        key_thumbprint: null,
        created_at: now,
        activated_at: null,
        revoked_at: null,
        last_seen_at: null,
      };
      const activation = await repo.transaction(async (r) => {
        await r.insertTerminal(row);
        return issueCode(r, row.id, now);
      });
      return { terminal: toTerminal(row), activation };
    },

    async issueActivationCode(merchantId, terminalId) {
      const now = clock.now().getTime();
      return repo.transaction(async (r) => {
        const row = await ownTerminal(merchantId, terminalId, r, true);
        if (row.status !== 'pending') {
          throw deviceError('terminal_not_pending', `terminal ${terminalId} is ${row.status}: only a terminal waiting for activation gets a new code`);
        }
        await r.retireActivationCodes(terminalId, now);
        return { terminal: toTerminal(row), activation: await issueCode(r, terminalId, now) };
      });
    },

    async activate(input) {
      const normalised = typeof input.code === 'string' ? normaliseActivationCode(input.code) : undefined;
      if (normalised === undefined) throw CODE_ERRORS.invalid();
      const key = parseDevicePublicKey(input.publicKey);
      const now = clock.now().getTime();
      const codeHash = codeHashOf(normalised);
      const row = await repo.transaction(async (r) => {
        const code = await r.activationCode(codeHash, { forUpdate: true });
        if (code === undefined) throw CODE_ERRORS.invalid();
        const terminal = await r.terminal(code.terminal_id, { forUpdate: true });
        if (terminal === undefined) throw CODE_ERRORS.invalid();
        if (terminal.status === 'revoked') throw deviceError('device_revoked', `terminal ${terminal.id} has been revoked`);
        if (code.used_at !== null || terminal.status !== 'pending') throw CODE_ERRORS.used();
        if (code.expires_at <= now) throw CODE_ERRORS.expired();
        const keyInUse = () => deviceError('device_key_in_use', 'this public key is registered to another terminal: make a new key pair');
        if (await r.thumbprintInUse(key.thumbprint)) throw keyInUse();
        if (!(await r.useActivationCode(codeHash, now))) throw CODE_ERRORS.used();
        const outcome = await r.activate(terminal.id, key, now);
        if (outcome === 'key_in_use') throw keyInUse();
        if (outcome !== 'ok') throw CODE_ERRORS.used();
        return (await r.terminal(terminal.id))!;
      });
      return { terminal: toTerminal(row), serverTime: now };
    },

    async precheck(request) {
      const deviceId = header(request.headers, HEADERS.deviceId);
      const timestamp = header(request.headers, HEADERS.timestamp);
      const nonce = header(request.headers, HEADERS.nonce);
      const signature = header(request.headers, HEADERS.signature);
      if (deviceId === undefined || timestamp === undefined || nonce === undefined || signature === undefined) {
        const missing = Object.values(HEADERS).filter((h) => request.headers[h] === undefined);
        throw deviceError('device_auth_missing', `missing device headers: ${missing.join(', ')}`, { missing });
      }
      if (!DEVICE_ID_PATTERN.test(deviceId)) throw deviceError('device_auth_malformed', `${HEADERS.deviceId} is malformed`);
      if (!TIMESTAMP_PATTERN.test(timestamp)) throw deviceError('device_auth_malformed', `${HEADERS.timestamp} must be decimal epoch milliseconds`);
      if (!NONCE_PATTERN.test(nonce)) throw deviceError('device_auth_malformed', `${HEADERS.nonce} must be 16 to 64 base64url characters`);
      let sig: Uint8Array;
      try {
        sig = base64urlDecode(signature);
      } catch {
        throw deviceError('device_auth_malformed', `${HEADERS.signature} must be unpadded base64url`);
      }
      const fields = { method: request.method, path: request.path, deviceId, timestamp, nonce };
      try {
        // With the digest of no body: this only checks that method and target fit a canonical string.
        canonicalString({ ...fields, bodySha256: EMPTY_SHA256 });
      } catch (e) {
        throw deviceError('device_auth_malformed', (e as Error).message);
      }

      const now = clock.now().getTime();
      const ts = Number(timestamp);
      if (Math.abs(now - ts) > config.clockSkewMs) {
        throw deviceError('device_timestamp_stale', `the request time is more than ${config.clockSkewMs} ms from the server's`, {
          server_time: now,
          window_ms: config.clockSkewMs,
        });
      }

      const terminal = await repo.terminal(deviceId);
      if (terminal === undefined) throw deviceError('device_unknown', `no terminal ${deviceId}`);
      if (terminal.status === 'revoked') throw deviceError('device_revoked', `terminal ${deviceId} has been revoked`);
      if (terminal.status !== 'active' || terminal.public_key_spki === null || terminal.algorithm === null) {
        throw deviceError('device_not_activated', `terminal ${deviceId} has not been activated`);
      }
      return { [PRECHECKED]: { fields, sig, ts, terminal } };
    },

    async verify(pending, body) {
      const { fields, sig, ts, terminal } = pending[PRECHECKED];
      const canonical = canonicalString({ ...fields, bodySha256: createHash('sha256').update(body).digest('hex') });
      if (!verifyDeviceSignature(terminal.algorithm as DeviceAlgorithm, terminal.public_key_spki!, utf8(canonical), sig)) {
        throw deviceError('device_signature_invalid', 'the signature does not match the request and the registered key');
      }
      const now = clock.now().getTime();
      const deviceId = terminal.id;
      // Only a correctly signed request spends its nonce: a refusal above writes nothing, so a
      // stranger can neither burn a device's nonces nor add a row to the table.
      // A signed request can, so each device holds at most maxNoncesPerDevice live nonces: a
      // device (or a stolen key) cannot fill the table, whatever the per-process rate limits let by.
      if ((await repo.liveNonces(deviceId, now)) >= config.maxNoncesPerDevice) {
        throw deviceError('device_nonce_limit', `this device has sent more than ${config.maxNoncesPerDevice} requests within the replay window: slow down`, {
          limit: config.maxNoncesPerDevice,
          window_ms: 2 * config.clockSkewMs,
        });
      }
      if (!(await repo.recordNonce(deviceId, fields.nonce, ts + config.clockSkewMs))) {
        throw deviceError('device_nonce_reused', 'this nonce has already been used: sign every request with a new one');
      }
      // The row just read says whether last-seen is due, which spares most requests a write.
      if (terminal.last_seen_at === null || now - terminal.last_seen_at >= config.lastSeenResolutionMs) {
        await repo.touch(deviceId, now, config.lastSeenResolutionMs);
      }
      if (now - lastPrune >= config.noncePruneIntervalMs) {
        lastPrune = now;
        await repo.pruneNonces(now);
      }
      return {
        terminalId: terminal.id,
        merchantId: terminal.merchant_id,
        storeId: terminal.store_id,
        algorithm: terminal.algorithm as DeviceAlgorithm,
      };
    },

    async authenticate(request) {
      return service.verify(await service.precheck(request), request.body);
    },

    async revokeTerminal(merchantId, terminalId) {
      const now = clock.now().getTime();
      return repo.transaction(async (r) => {
        await ownTerminal(merchantId, terminalId, r, true);
        await r.revoke(terminalId, now);
        return toTerminal((await r.terminal(terminalId))!);
      });
    },

    async getTerminal(merchantId, terminalId) {
      return toTerminal(await ownTerminal(merchantId, terminalId));
    },

    async deviceTerminal(device) {
      return toTerminal(await ownTerminal(device.merchantId, device.terminalId));
    },

    async listTerminals(merchantId, storeId) {
      if (!(await deps.storeBelongsTo(merchantId, storeId))) {
        throw deviceError('store_not_found', `no store ${storeId}`);
      }
      return (await repo.terminalsOfStore(merchantId, storeId)).map(toTerminal);
    },

    async terminalLabels(merchantId, terminalIds) {
      const rows = await repo.labelsOf(merchantId, [...new Set(terminalIds)]);
      return new Map(rows.map((r) => [r.id, r.label]));
    },

    async pruneNonces() {
      return repo.pruneNonces(clock.now().getTime());
    },

    now: () => clock.now().getTime(),
  };
  return service;
}
