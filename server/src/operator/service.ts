import { createHash } from 'node:crypto';
import { DEFAULT_SCRYPT_COST, DomainError, hashPassword, verifyPassword, type Clock, type IdGenerator, type Random, type ScryptCost } from '../platform/index.ts';
import type { OperatorRepo, OperatorRole, OperatorRow } from './repo.ts';

export const OPERATOR_ROLES: readonly OperatorRole[] = ['desk', 'admin'];

/** Someone who works for the operator: a service desk clerk or an admin. Never a merchant's staff. */
export interface OperatorStaff {
  id: string;
  email: string;
  name: string;
  role: OperatorRole;
  /** A desk user's own caps in minor units (null: the server's FACEPAY_DESK_* caps). */
  creditCap: number | null;
  dailyCap: number | null;
  createdAt: number;
}

export interface OperatorServiceDeps {
  repo: OperatorRepo;
  clock: Clock;
  ids: IdGenerator;
  random: Random;
  scryptCost?: ScryptCost;
  sessionTtlMs?: number;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const sha256 = (s: string): string => createHash('sha256').update(s).digest('base64url');

function checkPassword(password: string): void {
  if (password.length < 10 || password.length > 1024) throw new DomainError('invalid', 'password_too_short', 'Choose a password of at least 10 characters.');
}

function toStaff(r: OperatorRow): OperatorStaff {
  return { id: r.id, email: r.email, name: r.name, role: r.role, creditCap: r.credit_cap, dailyCap: r.daily_cap, createdAt: r.created_at };
}

function cap(v: number | null | undefined, field: string): number | null {
  if (v === null || v === undefined) return null;
  if (!Number.isSafeInteger(v) || v <= 0) throw new DomainError('invalid', `${field}_invalid`, `${field} is a positive whole number of minor units`);
  return v;
}

export function createOperatorService(deps: OperatorServiceDeps) {
  const { repo, clock, ids, random } = deps;
  const cost = deps.scryptCost ?? DEFAULT_SCRYPT_COST;
  const sessionTtl = deps.sessionTtlMs ?? 12 * 3600 * 1000;
  let dummyHash: Promise<string> | undefined;

  return {
    async create(input: { email: string; name: string; password: string; role: string; creditCap?: number | null; dailyCap?: number | null }): Promise<OperatorStaff> {
      const email = input.email.trim().toLowerCase();
      if (!EMAIL.test(email) || email.length > 254) throw new DomainError('invalid', 'email_invalid', 'Enter a valid e-mail address.');
      const name = input.name.trim();
      if (name.length === 0 || name.length > 100) throw new DomainError('invalid', 'name_invalid', 'Enter a name of up to 100 characters.');
      if (!(OPERATOR_ROLES as readonly string[]).includes(input.role)) throw new DomainError('invalid', 'role_invalid', 'The role is desk or admin.');
      checkPassword(input.password);
      const row: OperatorRow = {
        id: ids.next('ops'),
        email,
        name,
        role: input.role as OperatorRole,
        credit_cap: cap(input.creditCap, 'credit_cap'),
        daily_cap: cap(input.dailyCap, 'daily_cap'),
        password_hash: await hashPassword(input.password, random, cost),
        created_at: clock.now().getTime(),
      };
      if (!(await repo.insert(row))) throw new DomainError('conflict', 'email_taken', 'Somebody already signs in with this e-mail.');
      return toStaff(row);
    },

    async list(): Promise<OperatorStaff[]> {
      return (await repo.list()).map(toStaff);
    },

    async get(id: string): Promise<OperatorStaff> {
      const r = await repo.byId(id);
      if (!r) throw new DomainError('not_found', 'operator_staff_not_found', `no operator staff ${id}`);
      return toStaff(r);
    },

    async logIn(emailInput: string, password: string): Promise<{ staff: OperatorStaff; sessionToken: string }> {
      const row = await repo.byEmail(emailInput.trim().toLowerCase());
      // Hashing a throwaway password for unknown e-mails keeps a failed sign-in's time the same either way.
      const ok = await verifyPassword(password, row?.password_hash ?? (await (dummyHash ??= hashPassword('not-a-real-password', random, cost))));
      if (row === undefined || !ok) throw new DomainError('unauthorized', 'invalid_credentials', 'That e-mail and password do not match.');
      // The prefix tells an operator token from a merchant's API key in the Authorization header.
      const token = `ops_${random.bytes(32).toString('base64url')}`;
      const now = clock.now().getTime();
      await repo.insertSession(sha256(token), row.id, now, now + sessionTtl);
      return { staff: toStaff(row), sessionToken: token };
    },

    /** For a password reset by e-mail: the login with this address, if any. */
    async findByEmail(email: string): Promise<OperatorStaff | undefined> {
      const row = await repo.byEmail(email.trim().toLowerCase());
      return row ? toStaff(row) : undefined;
    },

    /** Throws the error a too short or too long password gets, before a reset link is spent on it. */
    checkPassword(password: string): void {
      checkPassword(password);
    },

    /** A new password (a reset): every session of the login ends. */
    async setPassword(id: string, password: string): Promise<void> {
      checkPassword(password);
      await repo.setPassword(id, await hashPassword(password, random, cost));
    },

    async logOut(token: string): Promise<void> {
      await repo.deleteSession(sha256(token));
    },

    /** The operator staff behind a session token, with one of `roles` (admins may do what desk users do). */
    async authenticate(token: string, roles: readonly OperatorRole[]): Promise<OperatorStaff> {
      const row = await repo.sessionStaff(sha256(token), clock.now().getTime());
      if (row === undefined) throw new DomainError('unauthorized', 'session_invalid', 'Please sign in again.');
      if (!roles.includes(row.role)) {
        throw new DomainError('forbidden', 'operator_role_insufficient', `a ${row.role} user may not do this (it needs ${roles.join(' or ')})`, { role: row.role, required: roles });
      }
      return toStaff(row);
    },
  };
}

export type OperatorService = ReturnType<typeof createOperatorService>;
