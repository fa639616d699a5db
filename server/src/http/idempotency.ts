import { createHash } from 'node:crypto';
import { DomainError, type Clock } from '../platform/index.ts';
import type { Db } from '../storage/index.ts';
import { idempotencyRepo as repo } from './idempotency-repo.ts';

export type Begin =
  | { kind: 'run' }
  | { kind: 'replay'; statusCode: number; body: string };

export interface IdempotencyStore {
  /**
   * Claims the key for this request, or answers the stored response of the request that used it.
   * A request with the same key and another body is a conflict. While the first request with a
   * key is still running, duplicates wait for its answer (up to `waitMs`), so that of concurrent
   * duplicates exactly one runs and all get its response.
   */
  begin(scope: string, key: string, fingerprint: string): Promise<Begin>;
  finish(scope: string, key: string, statusCode: number, body: string): Promise<void>;
  /** Forgets a key whose request failed on our side, so the client may retry it. */
  release(scope: string, key: string): Promise<void>;
  purge(olderThanMs: number): Promise<number>;
}

export function fingerprint(method: string, url: string, body: unknown): string {
  return createHash('sha256').update(`${method} ${url}\n${JSON.stringify(body ?? null)}`).digest('hex');
}

export const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

export function createIdempotencyStore(db: Db, clock: Clock, opts: { leaseMs?: number; waitMs?: number } = {}): IdempotencyStore {
  // A crashed holder's claim is taken over after the lease; money-moving services are idempotent
  // by the same key themselves, so a takeover never repeats a payment.
  const leaseMs = opts.leaseMs ?? 5_000;
  const waitMs = opts.waitMs ?? 10_000;
  return {
    async begin(scope, key, fp) {
      const started = Date.now();
      let pause = 2;
      for (;;) {
        const now = clock.now().getTime();
        if (await repo.claim(db, scope, key, fp, now, now + leaseMs)) return { kind: 'run' };
        const rec = await repo.get(db, scope, key);
        if (rec === undefined) continue;
        if (rec.fingerprint !== fp) {
          throw new DomainError('conflict', 'idempotency_key_reused', 'this Idempotency-Key was used with another request; use a new key');
        }
        if (rec.state === 'done') return { kind: 'replay', statusCode: rec.statusCode ?? 200, body: rec.body ?? '' };
        if (rec.lockedUntil < now && (await repo.takeOver(db, scope, key, now, now + leaseMs))) return { kind: 'run' };
        if (Date.now() - started > waitMs) {
          throw new DomainError('conflict', 'idempotency_key_in_use', 'a request with this Idempotency-Key is still running; retry later');
        }
        await new Promise((r) => setTimeout(r, pause));
        pause = Math.min(pause * 2, 100);
      }
    },
    finish: (scope, key, statusCode, body) => repo.finish(db, scope, key, statusCode, body),
    release: (scope, key) => repo.release(db, scope, key),
    purge: (olderThanMs) => repo.purge(db, clock.now().getTime() - olderThanMs),
  };
}
