import type { Random } from './random.ts';
import { cryptoRandom } from './random.ts';

/** Makes identifiers such as `pi_3kf93...`; injected so that tests get predictable ids. */
export interface IdGenerator {
  next(prefix: string): string;
}

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/** Time-ordered ids: a millisecond timestamp then random characters, so that ids sort by creation. */
export function randomIds(random: Random = cryptoRandom, now: () => number = Date.now): IdGenerator {
  return {
    next(prefix: string): string {
      const time = now().toString(36).padStart(9, '0');
      const bytes = random.bytes(12);
      let tail = '';
      for (const b of bytes) tail += ALPHABET[b % 36];
      return `${prefix}_${time}${tail}`;
    },
  };
}

/** Sequential ids for tests: `pi_0001`, `pi_0002`, ... */
export function sequentialIds(): IdGenerator {
  const counters = new Map<string, number>();
  return {
    next(prefix: string): string {
      const n = (counters.get(prefix) ?? 0) + 1;
      counters.set(prefix, n);
      return `${prefix}_${String(n).padStart(4, '0')}`;
    },
  };
}
