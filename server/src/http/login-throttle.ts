import { DomainError, isDomainError, type Clock } from '../platform/index.ts';

/**
 * Wrong passwords, so that a password cannot be guessed by trying, without letting a stranger lock
 * the owner out. Two counts, both over `windowMs`:
 * - per account and address: after `maxFailures`, that address's sign-in to that account answers
 *   429 until the window has passed, whatever the password. The owner, coming from elsewhere, is
 *   not affected.
 * - per account, from all addresses: after `backoffAfter` failures (a guesser using many addresses),
 *   each further attempt must wait a delay that doubles with every failure, up to `maxBackoffMs`.
 *   That slows a spread-out guess to a crawl but only ever delays the owner, never locks them out.
 * A successful sign-in clears both. Counts live in this process (several API processes each allow
 * their own).
 */
export interface LoginThrottle {
  /**
   * Runs a sign-in for `account` from `address`, counting an `unauthorized` answer as a failure
   * and a success as a clean slate.
   */
  guard<T>(account: string, address: string, signIn: () => Promise<T>): Promise<T>;
}

export interface LoginThrottleOptions {
  maxFailures?: number;
  windowMs?: number;
  backoffAfter?: number;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
}

interface Count {
  count: number;
  since: number;
  last: number;
}

export function createLoginThrottle(clock: Clock, opts: LoginThrottleOptions = {}): LoginThrottle {
  const maxFailures = opts.maxFailures ?? 10;
  const windowMs = opts.windowMs ?? 15 * 60_000;
  const backoffAfter = opts.backoffAfter ?? 20;
  const baseBackoffMs = opts.baseBackoffMs ?? 1_000;
  const maxBackoffMs = opts.maxBackoffMs ?? 60_000;
  const pairs = new Map<string, Count>();
  const accounts = new Map<string, Count>();

  const current = (map: Map<string, Count>, key: string, now: number): Count | undefined => {
    const c = map.get(key);
    if (c !== undefined && now - c.since >= windowMs) {
      map.delete(key);
      return undefined;
    }
    return c;
  };
  const count = (map: Map<string, Count>, key: string, now: number): void => {
    const kept = current(map, key, now);
    map.set(key, kept ? { count: kept.count + 1, since: kept.since, last: now } : { count: 1, since: now, last: now });
    // Forgotten accounts must not grow the maps for ever: drop the windows that have passed.
    if (map.size > 100_000) for (const [k, v] of map) if (now - v.since >= windowMs) map.delete(k);
  };
  const refuse = (waitMs: number): DomainError => {
    const retryAfterS = Math.max(1, Math.ceil(waitMs / 1000));
    const when = retryAfterS >= 120 ? `${Math.ceil(retryAfterS / 60)} minutes` : `${retryAfterS} seconds`;
    return new DomainError('busy', 'too_many_login_attempts', `Too many wrong passwords for this account. Try again in ${when}.`, { retry_after_s: retryAfterS });
  };

  return {
    async guard(account, address, signIn) {
      const key = account.trim().toLowerCase();
      const pairKey = `${key}\n${address}`;
      const now = clock.now().getTime();
      const pair = current(pairs, pairKey, now);
      if (pair !== undefined && pair.count >= maxFailures) throw refuse(pair.since + windowMs - now);
      const all = current(accounts, key, now);
      if (all !== undefined && all.count >= backoffAfter) {
        const delay = Math.min(maxBackoffMs, baseBackoffMs * 2 ** Math.min(30, all.count - backoffAfter));
        if (now - all.last < delay) throw refuse(all.last + delay - now);
      }
      try {
        const result = await signIn();
        pairs.delete(pairKey);
        accounts.delete(key);
        return result;
      } catch (e) {
        if (isDomainError(e) && e.kind === 'unauthorized') {
          count(pairs, pairKey, now);
          count(accounts, key, now);
        }
        throw e;
      }
    },
  };
}
