import { DomainError, isDomainError, type Clock } from '../platform/index.ts';

/**
 * Wrong passwords per account, so that a password cannot be guessed by trying: after `maxFailures`
 * in `windowMs`, the account's sign-in answers 429 until the window has passed, whatever the
 * password. Keyed by account rather than by address, since guessing from many addresses is the
 * attack; the price is that a stranger can hold an account's sign-in for one window. Counts live in
 * this process (several API processes each allow their own `maxFailures`).
 */
export interface LoginThrottle {
  /** Runs a sign-in for `account`, counting an `unauthorized` answer as a failure and a success as a clean slate. */
  guard<T>(account: string, signIn: () => Promise<T>): Promise<T>;
}

export function createLoginThrottle(clock: Clock, opts: { maxFailures?: number; windowMs?: number } = {}): LoginThrottle {
  const maxFailures = opts.maxFailures ?? 10;
  const windowMs = opts.windowMs ?? 15 * 60_000;
  const failures = new Map<string, { count: number; since: number }>();
  return {
    async guard(account, signIn) {
      const key = account.trim().toLowerCase();
      const now = clock.now().getTime();
      const f = failures.get(key);
      if (f !== undefined && now - f.since >= windowMs) failures.delete(key);
      else if (f !== undefined && f.count >= maxFailures) {
        const retryAfterS = Math.ceil((f.since + windowMs - now) / 1000);
        throw new DomainError('busy', 'too_many_login_attempts', `Too many wrong passwords for this account. Try again in ${Math.ceil(retryAfterS / 60)} minutes.`, {
          retry_after_s: retryAfterS,
        });
      }
      try {
        const result = await signIn();
        failures.delete(key);
        return result;
      } catch (e) {
        if (isDomainError(e) && e.kind === 'unauthorized') {
          const kept = failures.get(key);
          failures.set(key, kept ? { count: kept.count + 1, since: kept.since } : { count: 1, since: now });
          // Forgotten accounts must not grow the map for ever: drop the windows that have passed.
          if (failures.size > 100_000) for (const [k, v] of failures) if (now - v.since >= windowMs) failures.delete(k);
        }
        throw e;
      }
    },
  };
}
