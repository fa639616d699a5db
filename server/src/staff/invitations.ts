/**
 * Merchant onboarding without the command line: the operator invites a merchant's owner by
 * e-mail. The invitation and its message are written in one transaction (the mail outbox sends it);
 * the message carries a single-use link valid for an hour or a day, and the owner chooses a name and
 * password on the accept page, which makes their console login. Only a SHA-256 of the token is kept.
 */
import { createHash } from 'node:crypto';
import type { StaffRole } from '../merchants/index.ts';
import { DEFAULT_SCRYPT_COST, DomainError, hashPassword, type Clock, type IdGenerator, type Random, type ScryptCost } from '../platform/index.ts';
import { asDb, type Db, type SqlExecutor } from '../storage/index.ts';
import { invitationRepo as repo, type InvitationRow } from './invitations-repo.ts';
import { StaffRepo } from './repo.ts';
import { checkEmail, checkName, checkPassword, type StaffMember } from './service.ts';

/** How long a link works: an hour, or a day for an owner who will read the mail tomorrow. */
export const INVITATION_HOURS = [1, 24] as const;

export interface Invitation {
  id: string;
  merchantId: string;
  email: string;
  role: StaffRole;
  invitedBy: string;
  createdAt: number;
  expiresAt: number;
  /** `pending` until accepted; `expired` after its hour or day; `voided` when a newer one replaced it or the operator withdrew it. */
  status: 'pending' | 'accepted' | 'expired' | 'voided';
  staffId: string | null;
}

export interface InvitationDeps {
  db: Db;
  clock: Clock;
  ids: IdGenerator;
  random: Random;
  mail: { record(tx: SqlExecutor, m: { to: string; subject: string; text: string }): Promise<unknown> };
  /** The merchant's name for the message, or undefined when there is no such merchant. */
  merchantName(merchantId: string): Promise<string | undefined>;
  /** The accept page that takes the token, e.g. https://shop.lan:3000/console/accept-invitation?token=... */
  link(token: string): string;
  scryptCost?: ScryptCost;
}

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

export function createStaffInvitations(deps: InvitationDeps) {
  const { db, clock, ids, random } = deps;
  const cost = deps.scryptCost ?? DEFAULT_SCRYPT_COST;
  const staffRepo = new StaffRepo(db);
  const invalid = (): DomainError =>
    new DomainError('invalid', 'invitation_invalid', 'This invitation link is not valid any more (used, expired, replaced or mistyped). Ask the platform operator for a new one.');

  function view(r: InvitationRow, now: number): Invitation {
    const status = r.acceptedAt !== null ? 'accepted' : r.voidedAt !== null ? 'voided' : r.expiresAt <= now ? 'expired' : 'pending';
    return { id: r.id, merchantId: r.merchantId, email: r.email, role: r.role, invitedBy: r.invitedBy, createdAt: r.createdAt, expiresAt: r.expiresAt, status, staffId: r.staffId };
  }

  async function open(token: string): Promise<{ row: InvitationRow; hash: string; now: number }> {
    if (typeof token !== 'string' || !TOKEN.test(token)) throw invalid();
    const hash = sha256(token);
    const now = clock.now().getTime();
    const row = await repo.byTokenHash(db, hash);
    if (row === undefined || view(row, now).status !== 'pending') throw invalid();
    return { row, hash, now };
  }

  return {
    /** Mails the owner a link; an earlier open invitation of the same merchant and address stops working. */
    async invite(input: { merchantId: string; email: string; hours: number; invitedBy: string }): Promise<Invitation> {
      const email = checkEmail(input.email);
      if (!(INVITATION_HOURS as readonly number[]).includes(input.hours)) throw new DomainError('invalid', 'invitation_hours_invalid', 'An invitation works for 1 or 24 hours.');
      const merchant = await deps.merchantName(input.merchantId);
      if (merchant === undefined) throw new DomainError('not_found', 'merchant_not_found', `no merchant ${input.merchantId}`);
      if ((await staffRepo.byEmail(email)) !== undefined) throw new DomainError('conflict', 'email_taken', 'Somebody already signs in with this e-mail.');
      const token = random.bytes(32).toString('base64url');
      const now = clock.now().getTime();
      const row: InvitationRow = {
        id: ids.next('inv'),
        merchantId: input.merchantId,
        email,
        role: 'owner',
        invitedBy: input.invitedBy,
        createdAt: now,
        expiresAt: now + input.hours * 3600_000,
        acceptedAt: null,
        voidedAt: null,
        staffId: null,
      };
      await db.transaction(async (tx) => {
        await repo.voidOpen(tx, row.merchantId, email, now);
        await repo.insert(tx, row, sha256(token));
        await deps.mail.record(tx, {
          to: email,
          subject: `You are invited to run ${merchant} on Facepay`,
          text: [
            `The platform operator invites you to be the owner of ${merchant} in the Facepay merchant console.`,
            '',
            `To accept, open this link within ${input.hours === 1 ? 'an hour' : '24 hours'} and choose your password. It works once:`,
            deps.link(token),
            '',
            'If you did not expect this, ignore the message: nothing is set up until the link is used.',
          ].join('\n'),
        });
      });
      return view(row, now);
    },

    async list(merchantId: string): Promise<Invitation[]> {
      const now = clock.now().getTime();
      return (await repo.list(db, merchantId)).map((r) => view(r, now));
    },

    /** The operator withdraws an open invitation: its link stops working. */
    async revoke(merchantId: string, id: string): Promise<Invitation> {
      const now = clock.now().getTime();
      await repo.voidOne(db, merchantId, id, now);
      const r = await repo.byId(db, id);
      if (r === undefined || r.merchantId !== merchantId) throw new DomainError('not_found', 'invitation_not_found', `no invitation ${id}`);
      return view(r, now);
    },

    /** What the accept page shows before the password is chosen: the address and the merchant. */
    async lookup(token: string): Promise<{ email: string; merchantId: string; merchantName: string; expiresAt: number }> {
      const { row } = await open(token);
      return { email: row.email, merchantId: row.merchantId, merchantName: (await deps.merchantName(row.merchantId)) ?? row.merchantId, expiresAt: row.expiresAt };
    },

    /** Spends the link and makes the login; a weak password is refused before the link is spent. */
    async accept(token: string, input: { name: string; password: string }): Promise<StaffMember> {
      const { row, hash } = await open(token);
      const name = checkName(input.name);
      const passwordHash = await hashPassword(checkPassword(input.password), random, cost);
      const at = clock.now().getTime();
      const member: StaffMember = { id: ids.next('stf'), merchantId: row.merchantId, email: row.email, name, role: row.role, refundLimit: null, createdAt: at };
      await db.transaction(async (tx) => {
        if (!(await repo.accept(tx, hash, member.id, at))) throw invalid();
        const inserted = await new StaffRepo(asDb(tx)).insert({
          id: member.id,
          merchant_id: member.merchantId,
          email: member.email,
          name,
          role: member.role,
          refund_limit: null,
          password_hash: passwordHash,
          created_at: at,
          updated_at: at,
        });
        // The address was free when invited; someone may have taken it since. Throwing rolls the acceptance back.
        if (!inserted) throw new DomainError('conflict', 'email_taken', 'Somebody already signs in with this e-mail.');
      });
      return member;
    },
  };
}

export type StaffInvitations = ReturnType<typeof createStaffInvitations>;
