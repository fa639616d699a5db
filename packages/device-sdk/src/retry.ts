/**
 * Retrying a request that carries a client-made id (a payment id, say) until a final answer comes.
 * The id is what makes a retry safe: the server answers a repeated id with the first outcome
 * instead of charging again, so the terminal may retry through any network loss. Only requests
 * with such an id may be retried this way.
 */
import { base64urlEncode } from './protocol.ts';

export interface RetryOptions {
  /** Attempts in all, the first included; unlimited by default (stop with `signal`). */
  maxAttempts?: number;
  /** The first pause; each later one doubles, up to maxDelayMs, with full jitter. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  signal?: AbortSignal;
  /**
   * Whether a response is not yet final. Default (`defaultIsRetryable`): the error body's
   * `error.retryable` when it has one, else 408, 425, 429 and every 5xx.
   */
  isRetryable?: (response: Response) => boolean | Promise<boolean>;
  onRetry?: (info: { attempt: number; delayMs: number; error?: unknown; status?: number }) => void;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
}

/** The status rule alone, for answers without a Facepay error body (a proxy's 502, say). */
export function retryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

/**
 * The platform says in every error body whether the same request can succeed later
 * (`error.retryable`): a 503 `face_engine_off` cannot, and retrying it forever would only hang the
 * terminal. Without that flag (an answer from something in front of the platform), the status decides.
 */
export async function defaultIsRetryable(response: Response): Promise<boolean> {
  if (response.status < 400) return false;
  const flag = await response
    .clone()
    .json()
    .then((b: unknown) => (b as { error?: { retryable?: unknown } } | null)?.error?.retryable)
    .catch(() => undefined);
  return typeof flag === 'boolean' ? flag : retryableStatus(response.status);
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('aborted', 'AbortError');
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortError(signal!));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A Retry-After of a few seconds is honoured; a date or a long wait falls back to the backoff. */
function retryAfterMs(response: Response, maxDelayMs: number): number | undefined {
  const value = response.headers.get('retry-after');
  if (value === null || !/^[0-9]{1,6}$/.test(value)) return undefined;
  return Math.min(Number(value) * 1000, maxDelayMs);
}

/**
 * Calls `attempt` until it returns a final response, and returns that. A thrown error (the
 * network is gone, the connection was cut mid-answer) is retried; an abort through `signal` is
 * not. `attempt` must build and sign a new request each time, because a nonce is single use.
 */
export async function retryUntilFinal(attempt: (n: number) => Promise<Response>, opts: RetryOptions = {}): Promise<Response> {
  const maxAttempts = opts.maxAttempts ?? Number.POSITIVE_INFINITY;
  const base = opts.baseDelayMs ?? 250;
  const max = opts.maxDelayMs ?? 10_000;
  const isRetryable = opts.isRetryable ?? defaultIsRetryable;
  const pause = opts.sleep ?? sleep;
  const random = opts.random ?? Math.random;
  for (let n = 1; ; n++) {
    if (opts.signal?.aborted) throw abortError(opts.signal);
    let response: Response | undefined;
    let error: unknown;
    try {
      response = await attempt(n);
    } catch (e) {
      if (opts.signal?.aborted) throw abortError(opts.signal);
      error = e;
    }
    if (response !== undefined && !(await isRetryable(response))) return response;
    if (n >= maxAttempts) {
      if (response !== undefined) return response;
      throw error;
    }
    const backoff = Math.floor(random() * Math.min(max, base * 2 ** Math.min(n - 1, 30)));
    const delayMs = (response !== undefined ? retryAfterMs(response, max) : undefined) ?? backoff;
    opts.onRetry?.({ attempt: n, delayMs, ...(error !== undefined ? { error } : {}), ...(response ? { status: response.status } : {}) });
    // The body of a response we drop is never read; cancel it so the connection can be reused.
    await response?.body?.cancel().catch(() => undefined);
    await pause(delayMs, opts.signal);
  }
}

/** A client-made id: a prefix, then 16 random bytes in base64url. Make it once per payment and keep it for every retry. */
export function newClientId(prefix = 'req'): string {
  return `${prefix}_${base64urlEncode(globalThis.crypto.getRandomValues(new Uint8Array(16)))}`;
}
