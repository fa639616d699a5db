/** The members service's shared helpers and context (internal to the module). */
import { DomainError, isCurrency } from '../platform/index.ts';
import type { MemberRepo, MemberRow, ProgrammeRow } from './repo.ts';
import { MEMBER_FIELDS, isMemberField, normaliseField, type MemberField, type MemberFields } from './rules.ts';
import { MEMBERSHIP_CONSENT, type MemberEvent, type MembersServiceDeps, type Programme } from './types.ts';

export const MAX_PAGE = 200;
export const DEFAULT_PAGE = 50;
export const TAG = /^[\p{L}\p{N}][\p{L}\p{N} _\-]{0,31}$/u;
const ID_ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';

export function parseFields(s: string): MemberField[] {
  return s.split(',').filter(isMemberField);
}

export function toProgramme(r: ProgrammeRow): Programme {
  return {
    merchantId: r.merchant_id,
    name: r.name,
    benefits: r.benefits,
    fields: parseFields(r.fields),
    currency: r.currency,
    timeZone: r.time_zone,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** Only the fields the member shares and only while the membership is live. */
export function sharedValues(r: MemberRow): MemberFields {
  if (r.left_at !== null) return {};
  const out: MemberFields = {};
  for (const f of parseFields(r.shared_fields)) {
    const v = r[f];
    if (v !== null) out[f] = v;
  }
  return out;
}

export function amountOk(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0;
}

export function checkCurrency(c: string): string {
  if (!/^[A-Z]{3}$/.test(c) || !isCurrency(c)) throw new DomainError('invalid', 'currency_invalid', 'A currency is a three-letter ISO 4217 code.');
  return c;
}

export function encodeCursor(joinedAt: number, id: string): string {
  return Buffer.from(JSON.stringify([joinedAt, id])).toString('base64url');
}

export function decodeCursor(c: string): [number, string] {
  try {
    const v = JSON.parse(Buffer.from(c, 'base64url').toString()) as unknown;
    if (Array.isArray(v) && typeof v[0] === 'number' && typeof v[1] === 'string') return [v[0], v[1]];
  } catch {
    // fall through to the error below
  }
  throw new DomainError('invalid', 'cursor_invalid', 'The page cursor is not valid.');
}

/**
 * What every part of the members service shares: its dependencies, the member id, the lookups
 * that answer not_found, the checks of shared fields and consent, and the events sink.
 */
export function createContext(deps: MembersServiceDeps) {
  const { repo, clock, random } = deps;
  const publish = async (tx: MemberRepo, e: Omit<MemberEvent, 'objectId'>): Promise<void> => {
    await deps.events?.publish(tx.executor, { ...e, objectId: e.data.memberId });
  };

  /** A member id carries 100 random bits and nothing of the shopper: no hash, no order, per merchant. */
  function newMemberId(): string {
    let s = '';
    for (const b of random.bytes(20)) s += ID_ALPHABET[b % 32];
    return `mem_${s}`;
  }

  async function mustProgramme(merchantId: string): Promise<ProgrammeRow> {
    const p = await repo.programme(merchantId);
    if (p === undefined) throw new DomainError('not_found', 'programme_not_found', 'This merchant has no membership programme.');
    return p;
  }

  /** The member, only if it belongs to this merchant: another merchant's id looks exactly like a missing one. */
  async function mustMember(merchantId: string, memberId: string): Promise<MemberRow> {
    const m = await repo.member(memberId);
    if (m === undefined || m.merchant_id !== merchantId) throw new DomainError('not_found', 'member_not_found', 'No such member.');
    return m;
  }

  function checkShared(programme: ProgrammeRow, values: MemberFields): { fields: MemberField[]; values: MemberFields } {
    const asked = parseFields(programme.fields);
    const out: MemberFields = {};
    const fields: MemberField[] = [];
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) continue;
      if (!isMemberField(k) || !asked.includes(k))
        throw new DomainError('invalid', 'field_not_asked', `The programme does not ask for ${k}.`, { field: k });
      out[k] = normaliseField(k, v);
      fields.push(k);
    }
    fields.sort((a, b) => MEMBER_FIELDS.indexOf(a) - MEMBER_FIELDS.indexOf(b));
    return { fields, values: out };
  }

  function checkConsentVersion(v: string): void {
    if (v !== MEMBERSHIP_CONSENT.version)
      throw new DomainError('conflict', 'consent_version_outdated', 'The membership text has changed: please read it again.', {
        current_version: MEMBERSHIP_CONSENT.version,
      });
  }

  return { repo, clock, random, publish, newMemberId, mustProgramme, mustMember, checkShared, checkConsentVersion };
}

export type MembersContext = ReturnType<typeof createContext>;
