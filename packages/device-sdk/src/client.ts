/**
 * Activation and signed requests. Every request a device makes after activation goes through
 * `signRequest`, which adds the four protocol headers over the exact bytes that will be sent.
 */
import type { DeviceIdentity, DeviceKeyStore } from './key-store.ts';
import { type DeviceKeyPair, exportPublicJwk, generateDeviceKeyPair, newNonce, signCanonical } from './keys.ts';
import { type DeviceAlgorithm, HEADERS, canonicalString, sha256Hex, utf8 } from './protocol.ts';
import { type RetryOptions, retryUntilFinal, retryableStatus } from './retry.ts';

type FetchFn = typeof globalThis.fetch;

/** An error answer from the platform, with its stable code (`device_nonce_reused`, ...). */
export class DeviceApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Whether the same request, signed anew, can succeed later: the server's `error.retryable`, else judged by the status. */
    readonly retryable: boolean = retryableStatus(status),
  ) {
    super(message);
    this.name = 'DeviceApiError';
  }
}

/** Reads `{code, message}` or `{error: {code, message}}`, whichever the server sends. */
async function apiError(response: Response): Promise<DeviceApiError> {
  let code = `http_${response.status}`;
  let message = response.statusText || code;
  let retryable = retryableStatus(response.status);
  try {
    const body = (await response.json()) as Record<string, unknown>;
    const e = (typeof body.error === 'object' && body.error !== null ? body.error : body) as Record<string, unknown>;
    if (typeof e.code === 'string') code = e.code;
    if (typeof e.message === 'string') message = e.message;
    if (typeof e.retryable === 'boolean') retryable = e.retryable;
  } catch {
    // Not JSON: the status says enough.
  }
  return new DeviceApiError(response.status, code, message, retryable);
}

/** The server's time from a `device_timestamp_stale` refusal, else undefined. */
async function staleServerTime(response: Response): Promise<number | undefined> {
  try {
    const body = (await response.json()) as { error?: { code?: unknown; details?: { server_time?: unknown } } };
    const t = body.error?.details?.server_time;
    return body.error?.code === 'device_timestamp_stale' && typeof t === 'number' && Number.isSafeInteger(t) ? t : undefined;
  } catch {
    return undefined;
  }
}

export type RequestBody = string | Uint8Array | ArrayBuffer | Blob | null | undefined;

async function bodyBytes(body: RequestBody): Promise<Uint8Array> {
  if (body === null || body === undefined) return new Uint8Array(0);
  if (typeof body === 'string') return utf8(body);
  if (body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  return new Uint8Array(await body.arrayBuffer());
}

export interface SignInput {
  method: string;
  /** The request target as it goes on the wire: path and query, no scheme or host. */
  path: string;
  body?: Uint8Array;
  /** Epoch milliseconds; defaults to now. */
  timestamp?: number;
  nonce?: string;
}

export type SigningIdentity = Pick<DeviceIdentity, 'algorithm' | 'privateKey'> & { deviceId: string };

/** The four protocol headers for one request. */
export async function signRequest(identity: SigningIdentity, input: SignInput): Promise<Record<string, string>> {
  const timestamp = String(input.timestamp ?? Date.now());
  const nonce = input.nonce ?? newNonce();
  const canonical = canonicalString({
    method: input.method.toUpperCase(),
    path: input.path,
    deviceId: identity.deviceId,
    timestamp,
    nonce,
    bodySha256: await sha256Hex(input.body ?? new Uint8Array(0)),
  });
  return {
    [HEADERS.deviceId]: identity.deviceId,
    [HEADERS.timestamp]: timestamp,
    [HEADERS.nonce]: nonce,
    [HEADERS.signature]: await signCanonical(identity, canonical),
  };
}

export interface DeviceRequestInit {
  method?: string;
  headers?: Record<string, string>;
  /** Sent as `application/json`; exclusive with `body`. */
  json?: unknown;
  body?: RequestBody;
  signal?: AbortSignal;
}

export interface DeviceClientOptions {
  baseUrl: string;
  identity: DeviceIdentity;
  fetch?: FetchFn;
  /** Epoch milliseconds; injected by tests. */
  now?: () => number;
  /** Added to `now()`: the difference between the server's clock and the device's, learnt at activation. */
  clockOffsetMs?: number;
}

/** A device's connection to the platform: every call is signed. */
export class DeviceClient {
  readonly baseUrl: string;
  readonly deviceId: string;
  private readonly identity: SigningIdentity;
  private readonly fetchFn: FetchFn;
  private readonly now: () => number;
  clockOffsetMs: number;

  constructor(opts: DeviceClientOptions) {
    if (opts.identity.deviceId === null) throw new Error('the device is not activated yet');
    this.baseUrl = opts.baseUrl;
    this.deviceId = opts.identity.deviceId;
    this.identity = { ...opts.identity, deviceId: opts.identity.deviceId };
    this.fetchFn = opts.fetch ?? globalThis.fetch.bind(globalThis);
    this.now = opts.now ?? Date.now;
    this.clockOffsetMs = opts.clockOffsetMs ?? 0;
  }

  /** A client for the identity in a key store, or undefined when the device is not activated. */
  static async fromStore(store: DeviceKeyStore, opts: Omit<DeviceClientOptions, 'identity' | 'baseUrl'> & { baseUrl?: string }): Promise<DeviceClient | undefined> {
    const identity = await store.load();
    const baseUrl = opts.baseUrl ?? identity?.baseUrl;
    if (identity?.deviceId === null || identity === undefined || baseUrl === undefined) return undefined;
    return new DeviceClient({ ...opts, baseUrl, identity, clockOffsetMs: opts.clockOffsetMs ?? identity.clockOffsetMs ?? 0 });
  }

  /**
   * One signed request. `path` is relative to the base URL (e.g. `/device/v1/me?x=1`). When the
   * platform refuses the timestamp as stale it says its time: the client corrects its clock
   * offset from that and sends the request once more, signed anew.
   */
  async fetch(path: string, init: DeviceRequestInit = {}): Promise<Response> {
    const response = await this.send(path, init);
    if (response.status !== 401) return response;
    const serverTime = await staleServerTime(response.clone());
    if (serverTime === undefined) return response;
    this.clockOffsetMs = serverTime - this.now();
    await response.body?.cancel().catch(() => undefined);
    return this.send(path, init);
  }

  private async send(path: string, init: DeviceRequestInit): Promise<Response> {
    const url = new URL(path, this.baseUrl);
    const method = (init.method ?? (init.json !== undefined || init.body != null ? 'POST' : 'GET')).toUpperCase();
    const headers: Record<string, string> = { ...init.headers };
    let body: Uint8Array;
    if (init.json !== undefined) {
      if (init.body != null) throw new Error('give json or body, not both');
      body = utf8(JSON.stringify(init.json));
      headers['content-type'] ??= 'application/json';
    } else {
      body = await bodyBytes(init.body);
    }
    // The URL parser normalises the target exactly as fetch will send it, so sign that form.
    const signed = await signRequest(this.identity, {
      method,
      path: url.pathname + url.search,
      body,
      timestamp: this.now() + this.clockOffsetMs,
    });
    return this.fetchFn(url, {
      method,
      headers: { ...headers, ...signed },
      ...(method === 'GET' || method === 'HEAD' ? {} : { body: body as Uint8Array<ArrayBuffer> }),
      ...(init.signal ? { signal: init.signal } : {}),
    });
  }

  /** A signed request whose body is JSON, answered with JSON; an error answer throws DeviceApiError. */
  async json<T>(path: string, init: DeviceRequestInit = {}): Promise<T> {
    const response = await this.fetch(path, init);
    if (!response.ok) throw await apiError(response);
    return (await response.json()) as T;
  }

  /**
   * Retries a request until a final answer, signing each attempt anew. Use it only for requests
   * whose body holds a client-made id (see `newClientId`), which the server deduplicates.
   */
  async fetchUntilFinal(path: string, init: DeviceRequestInit, retry: RetryOptions = {}): Promise<Response> {
    const signal = init.signal ?? retry.signal;
    return retryUntilFinal(() => this.fetch(path, init), { ...retry, ...(signal ? { signal } : {}) });
  }
}

export interface ActivateOptions {
  baseUrl: string;
  /** The code the merchant got when creating the terminal; dashes, spaces and case do not matter. */
  code: string;
  keyStore: DeviceKeyStore;
  algorithm?: DeviceAlgorithm;
  fetch?: FetchFn;
  now?: () => number;
}

export interface ActivationAnswer {
  device_id: string;
  merchant_id: string;
  store_id: string;
  algorithm: DeviceAlgorithm;
  server_time: number;
}

/**
 * Registers this device's public key with an activation code and keeps the identity in the key
 * store. A key pair made by an earlier attempt that never completed is reused rather than replaced.
 */
export async function activateDevice(opts: ActivateOptions): Promise<{ client: DeviceClient; activation: ActivationAnswer }> {
  const fetchFn = opts.fetch ?? globalThis.fetch.bind(globalThis);
  const now = opts.now ?? Date.now;
  const existing = await opts.keyStore.load();
  if (existing?.deviceId) throw new Error(`this device is already activated as ${existing.deviceId}; clear the key store first`);
  let pair: DeviceKeyPair;
  if (existing !== undefined && (opts.algorithm === undefined || existing.algorithm === opts.algorithm)) {
    pair = existing;
  } else {
    pair = await generateDeviceKeyPair(opts.algorithm ?? 'ES256');
    await opts.keyStore.save({ deviceId: null, ...pair });
  }
  const response = await fetchFn(new URL('/device/v1/activate', opts.baseUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code: opts.code, public_key: await exportPublicJwk(pair) }),
  });
  if (!response.ok) throw await apiError(response);
  const activation = (await response.json()) as ActivationAnswer;
  const clockOffsetMs = activation.server_time - now();
  const identity: DeviceIdentity = { ...pair, deviceId: activation.device_id, baseUrl: opts.baseUrl, activatedAt: now(), clockOffsetMs };
  await opts.keyStore.save(identity);
  const client = new DeviceClient({ baseUrl: opts.baseUrl, identity, fetch: fetchFn, now, clockOffsetMs });
  return { client, activation };
}
