import { randomBytes } from 'node:crypto';

/** Randomness is injected so that tests are deterministic. */
export interface Random {
  bytes(n: number): Buffer;
  /** A float in [0, 1). */
  float(): number;
  /** An integer in [0, max). */
  int(max: number): number;
}

export const cryptoRandom: Random = {
  bytes: (n) => randomBytes(n),
  float: () => randomBytes(6).readUIntBE(0, 6) / 2 ** 48,
  int: (max) => Math.floor((randomBytes(6).readUIntBE(0, 6) / 2 ** 48) * max),
};

/** A seeded generator (mulberry32) for tests and reproducible benchmarks; never for secrets. */
export function seededRandom(seed: number): Random {
  let s = seed >>> 0;
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    bytes: (n) => {
      const b = Buffer.alloc(n);
      for (let i = 0; i < n; i++) b[i] = Math.floor(next() * 256);
      return b;
    },
    float: next,
    int: (max) => Math.floor(next() * max),
  };
}
