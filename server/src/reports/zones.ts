import { DomainError } from '../platform/index.ts';

/** Throws `time_zone_invalid` unless the IANA zone is known to this runtime. */
export function checkTimeZone(tz: string): string {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return tz;
  } catch {
    throw new DomainError('invalid', 'time_zone_invalid', `unknown time zone ${tz}: use an IANA name such as Europe/Paris`);
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(tz, f);
  }
  return f;
}

/** The zone's wall-clock date and time at an instant. */
export function wallClock(ms: number, tz: string): { y: number; m: number; d: number; hh: number; mm: number; ss: number } {
  const parts = Object.fromEntries(formatter(tz).formatToParts(new Date(ms)).map((p) => [p.type, Number(p.value)]));
  return { y: parts.year!, m: parts.month!, d: parts.day!, hh: parts.hour!, mm: parts.minute!, ss: parts.second! };
}

/** Milliseconds the zone is ahead of UTC at an instant. */
function offsetAt(ms: number, tz: string): number {
  const w = wallClock(ms, tz);
  return Date.UTC(w.y, w.m - 1, w.d, w.hh, w.mm, w.ss) - Math.floor(ms / 1000) * 1000;
}

/**
 * The instant local midnight starts the given calendar day (month and day may overflow, as in
 * Date.UTC). Asked twice because the offset at midnight can differ from the offset a guess lands
 * on around a daylight-saving change.
 */
export function startOfLocalDay(y: number, m: number, d: number, tz: string): number {
  const wall = Date.UTC(y, m - 1, d);
  const first = wall - offsetAt(wall, tz);
  return wall - offsetAt(first, tz);
}

export function isoDate(y: number, m: number, d: number): string {
  return new Date(Date.UTC(y, m - 1, d)).toISOString().slice(0, 10);
}
