/**
 * Forgotten passwords, for console staff, the operator's own staff and shoppers alike: `request` mails a single-use link
 * that expires (the token and the message are written in one transaction), and answers the same
 * whether or not the address has an account, so the form tells nobody who is registered.
 * `complete` sets the new password through the account's own module and ends its sessions.
 */
import { createHash } from 'node:crypto';
import { DomainError, type Clock, type Random } from '../platform/index.ts';
import type { Db, SqlExecutor } from '../storage/index.ts';
import { resetRepo as repo, type AccountKind } from './repo.ts';

export type { AccountKind } from './repo.ts';

/** What the resets module needs of the staff and shoppers modules. */
export interface ResettableAccounts {
  findByEmail(email: string): Promise<{ id: string; email: string } | undefined>;
  checkPassword(password: string): void;
  setPassword(id: string, password: string): Promise<void>;
}

export interface ResetDeps {
  db: Db;
  clock: Clock;
  random: Random;
  mail: { record(tx: SqlExecutor, m: { to: string; subject: string; text: string }): Promise<unknown> };
  accounts: Record<AccountKind, ResettableAccounts>;
  /** The page that takes the token, e.g. https://shop.lan:3000/console/reset-password?token=... */
  link: (kind: AccountKind, token: string) => string;
  ttlMs?: number;
}

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

const WHO: Record<AccountKind, string> = { staff: 'your Facepay console login', shopper: 'your Facepay account', operator: 'your Facepay operator login' };

export function createPasswordResets(deps: ResetDeps) {
  const { db, clock, random } = deps;
  const ttl = deps.ttlMs ?? 60 * 60_000;
  const invalid = (): DomainError =>
    new DomainError('invalid', 'reset_token_invalid', 'This reset link is not valid any more (used, expired or mistyped). Ask for a new one.');

  return {
    async request(kind: AccountKind, email: string): Promise<void> {
      const account = await deps.accounts[kind].findByEmail(email);
      if (account === undefined) return;
      const token = random.bytes(32).toString('base64url');
      const now = clock.now().getTime();
      const minutes = Math.round(ttl / 60_000);
      await db.transaction(async (tx) => {
        await repo.insert(tx, { tokenHash: sha256(token), kind, accountId: account.id, now, expiresAt: now + ttl });
        await deps.mail.record(tx, {
          to: account.email,
          subject: 'Reset your Facepay password',
          text: [
            `Someone asked to reset the password of ${WHO[kind]} (${account.email}).`,
            '',
            `To choose a new password, open this link within ${minutes} minutes. It works once:`,
            deps.link(kind, token),
            '',
            'If it was not you, ignore this message: your password stays as it is.',
          ].join('\n'),
        });
      });
    },

    async complete(kind: AccountKind, token: string, password: string): Promise<void> {
      if (!TOKEN.test(token)) throw invalid();
      const hash = sha256(token);
      const now = clock.now().getTime();
      const found = await repo.find(db, hash, kind);
      if (found === undefined || found.usedAt !== null || found.expiresAt <= now) throw invalid();
      // A weak password is refused before the link is spent, so the person can try another.
      deps.accounts[kind].checkPassword(password);
      const used = await db.transaction(async (tx) => {
        if (!(await repo.use(tx, hash, now))) return false;
        await repo.spendOthers(tx, kind, found.accountId, now);
        return true;
      });
      if (!used) throw invalid();
      await deps.accounts[kind].setPassword(found.accountId, password);
    },
  };
}

export type PasswordResets = ReturnType<typeof createPasswordResets>;
