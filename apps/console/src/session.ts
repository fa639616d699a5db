import type { StaffMe } from './api.ts';

/** What every page gets: who is signed in, and what they may do. */
export interface Session {
  me: StaffMe;
  can: (scope: string) => boolean;
  /** The programme's currency (upper case) when there is one. */
  currency: string | undefined;
}

export function go(path: string): void {
  location.hash = `#/${path}`;
}
