import { createHash } from 'node:crypto';
import { SCOPES, type StaffRole } from '../merchants/index.ts';
import { DEFAULT_SCRYPT_COST, DomainError, hashPassword, verifyPassword, type Clock, type IdGenerator, type Random, type ScryptCost } from '../platform/index.ts';
import type { StaffRepo, StaffRow } from './repo.ts';

export const STAFF_ROLES: readonly StaffRole[] = ['owner', 'manager', 'cashier'];

export interface StaffMember {
  id: string;
  merchantId: string;
  email: string;
  name: string;
  role: StaffRole;
  /** A cashier's largest refund in minor units; null for owners and managers, who have none. */
  refundLimit: number | null;
  createdAt: number;
}

export interface StaffServiceDeps {
  repo: StaffRepo;
  clock: Clock;
  ids: IdGenerator;
  random: Random;
  scryptCost?: ScryptCost;
  sessionTtlMs?: number;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const MIN_PASSWORD = 10;

/**
 * The API scopes of a role. Managers run the shop but do not hand out credentials (API keys, staff
 * logins); cashiers take and refund payments (up to their limit) and look members up by member
 * id, with their visits but never the personal fields they share (name, birthday, e-mail...).
 */
export function staffScopes(role: StaffRole): string[] {
  if (role === 'owner') return ['*'];
  if (role === 'manager') return SCOPES.filter((s) => s !== '*' && !s.startsWith('keys:') && !s.startsWith('staff:'));
  return ['payments:write', 'stores:read', 'devices:read', 'members:lookup', 'marketing:read'];
}

/** A first password to hand over (96 random bits), for the demo owner and `facepay merchant staff-add`. */
export function newPassword(random: Random): string {
  return random.bytes(12).toString('base64url');
}

const sha256 = (s: string): string => createHash('sha256').update(s).digest('base64url');

function toMember(r: StaffRow): StaffMember {
  return { id: r.id, merchantId: r.merchant_id, email: r.email, name: r.name, role: r.role, refundLimit: r.refund_limit, createdAt: r.created_at };
}

export function checkEmail(input: string): string {
  const email = input.trim().toLowerCase();
  if (!EMAIL.test(email) || email.length > 254) throw new DomainError('invalid', 'email_invalid', 'Enter a valid e-mail address.');
  return email;
}

export function checkPassword(password: string): string {
  if (password.length < MIN_PASSWORD || password.length > 1024)
    throw new DomainError('invalid', 'password_too_short', `Choose a password of at least ${MIN_PASSWORD} characters.`);
  return password;
}

export function checkName(input: string): string {
  const name = input.trim();
  if (name.length === 0 || name.length > 100) throw new DomainError('invalid', 'name_invalid', 'Enter a name of up to 100 characters.');
  return name;
}

function checkRole(role: string): StaffRole {
  if (!(STAFF_ROLES as readonly string[]).includes(role)) throw new DomainError('invalid', 'role_invalid', 'The role is owner, manager or cashier.');
  return role as StaffRole;
}

/** Only cashiers carry a limit; a cashier given none may not refund at all until an owner sets one. */
function limitFor(role: StaffRole, limit: number | null | undefined): number | null {
  if (role !== 'cashier') return null;
  const l = limit ?? 0;
  if (!Number.isSafeInteger(l) || l < 0) throw new DomainError('invalid', 'refund_limit_invalid', 'The refund limit is a whole number of minor units, 0 or more.');
  return l;
}

export function createStaffService(deps: StaffServiceDeps) {
  const { repo, clock, ids, random } = deps;
  const cost = deps.scryptCost ?? DEFAULT_SCRYPT_COST;
  const sessionTtl = deps.sessionTtlMs ?? 12 * 3600 * 1000;
  // Hashing a throwaway password for unknown e-mails keeps a failed sign-in's time the same either way.
  let dummyHash: Promise<string> | undefined;

  async function mustGet(r: StaffRepo, merchantId: string, id: string, lock = false): Promise<StaffRow> {
    const row = await r.byId(merchantId, id, lock);
    if (row === undefined) throw new DomainError('not_found', 'staff_not_found', `no staff member ${id}`);
    return row;
  }

  const lastOwner = (): DomainError => new DomainError('conflict', 'last_owner', 'A merchant keeps at least one owner: make someone else owner first.');

  return {
    roles: STAFF_ROLES,
    scopesFor: staffScopes,

    async create(
      merchantId: string,
      input: { email: string; name: string; password: string; role: string; refundLimit?: number | null },
    ): Promise<StaffMember> {
      const role = checkRole(input.role);
      const now = clock.now().getTime();
      const row: StaffRow = {
        id: ids.next('stf'),
        merchant_id: merchantId,
        email: checkEmail(input.email),
        name: checkName(input.name),
        role,
        refund_limit: limitFor(role, input.refundLimit),
        password_hash: await hashPassword(checkPassword(input.password), random, cost),
        created_at: now,
        updated_at: now,
      };
      if (!(await repo.insert(row))) throw new DomainError('conflict', 'email_taken', 'Somebody already signs in with this e-mail.');
      return toMember(row);
    },

    async list(merchantId: string): Promise<StaffMember[]> {
      return (await repo.list(merchantId)).map(toMember);
    },

    async get(merchantId: string, id: string): Promise<StaffMember> {
      return toMember(await mustGet(repo, merchantId, id));
    },

    /** Whether the merchant has any staff login yet (the demo seed creates the first owner). */
    async hasStaff(merchantId: string): Promise<boolean> {
      return (await repo.countAll(merchantId)) > 0;
    },

    async update(
      merchantId: string,
      id: string,
      input: { name?: string; role?: string; refundLimit?: number | null; password?: string },
    ): Promise<StaffMember> {
      const passwordHash = input.password === undefined ? undefined : await hashPassword(checkPassword(input.password), random, cost);
      return repo.transaction(async (tx) => {
        const row = await mustGet(tx, merchantId, id, true);
        const role = input.role === undefined ? row.role : checkRole(input.role);
        if (row.role === 'owner' && role !== 'owner' && (await tx.countOwners(merchantId)) <= 1) throw lastOwner();
        const next: StaffRow = {
          ...row,
          name: input.name === undefined ? row.name : checkName(input.name),
          role,
          refund_limit: limitFor(role, input.refundLimit === undefined ? row.refund_limit : input.refundLimit),
          password_hash: passwordHash ?? row.password_hash,
          updated_at: clock.now().getTime(),
        };
        await tx.update(next);
        if (passwordHash !== undefined) await tx.deleteSessionsOf(id, next.updated_at);
        return toMember(next);
      });
    },

    async remove(merchantId: string, id: string): Promise<void> {
      await repo.transaction(async (tx) => {
        const row = await mustGet(tx, merchantId, id, true);
        if (row.role === 'owner' && (await tx.countOwners(merchantId)) <= 1) throw lastOwner();
        await tx.remove(id);
      });
    },

    async logIn(emailInput: string, password: string, merchantId?: string): Promise<{ staff: StaffMember; sessionToken: string }> {
      const found = await repo.byEmail(emailInput.trim().toLowerCase());
      const row = found !== undefined && (merchantId === undefined || found.merchant_id === merchantId) ? found : undefined;
      const ok = await verifyPassword(password, row?.password_hash ?? (await (dummyHash ??= hashPassword('not-a-real-password', random, cost))));
      if (row === undefined || !ok) throw new DomainError('unauthorized', 'invalid_credentials', 'That e-mail and password do not match.');
      const token = random.bytes(32).toString('base64url');
      const now = clock.now().getTime();
      await repo.insertSession(sha256(token), row.id, now, now + sessionTtl);
      return { staff: toMember(row), sessionToken: token };
    },

    async logOut(token: string): Promise<void> {
      await repo.deleteSession(sha256(token));
    },

    /** For a password reset: the login with this e-mail, if any. */
    async findByEmail(email: string): Promise<StaffMember | undefined> {
      const row = await repo.byEmail(email.trim().toLowerCase());
      return row ? toMember(row) : undefined;
    },

    /** Throws the error a too short or too long password gets, before anything is spent on it. */
    checkPassword(password: string): void {
      checkPassword(password);
    },

    /** A new password (a reset); every session of the login ends. */
    async setPassword(id: string, password: string): Promise<void> {
      const hash = await hashPassword(checkPassword(password), random, cost);
      await repo.transaction(async (tx) => {
        await tx.setPasswordHash(id, hash, clock.now().getTime());
        await tx.deleteSessionsOf(id, clock.now().getTime());
      });
    },

    /** The staff member behind a session token, as the row stands now (a role change applies at once). */
    async authenticate(token: string): Promise<StaffMember> {
      const row = await repo.sessionStaff(sha256(token), clock.now().getTime());
      if (row === undefined) throw new DomainError('unauthorized', 'session_invalid', 'Please sign in again.');
      return toMember(row);
    },
  };
}

export type StaffService = ReturnType<typeof createStaffService>;
