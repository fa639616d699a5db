/**
 * Shopper rights: the export of everything the platform holds about a shopper, the deletion of the
 * account (a persisted, resumable workflow), and the retention rule for face templates. The module
 * owns no personal data itself; it asks the modules that do through the ports below.
 */
import { DomainError, type Clock, type IdGenerator } from '../platform/index.ts';
import type { SqlExecutor } from '../storage/index.ts';
import type { DeletionRow, DeletionStep, RightsRepo } from './repo.ts';

const DAY = 86_400_000;
/** How long before a template's deletion the shopper is told. */
export const RETENTION_NOTICE_DAYS = 30;
export const DEFAULT_RETENTION_DAYS = 1095;

export interface AccountFacts {
  id: string;
  email: string;
  name: string;
  phone: string | null;
  createdAt: number;
  facePayEnabled: boolean;
  alwaysAskDigits: boolean;
  perPaymentLimit: number | null;
  hasPin: boolean;
  faceEnrolledAt: number | null;
  deletedAt: number | null;
}

export interface EndedMembership {
  merchantId: string;
  memberId: string;
}

/** What the rights module asks of the others; the composition root wires each to its module. */
export interface RightsPorts {
  shoppers: {
    get(id: string): Promise<AccountFacts>;
    passwordMatches(id: string, password: string): Promise<boolean>;
    /** No sign-in, session, pay code or face pay left (repeatable). */
    closeAccount(id: string): Promise<void>;
    /** The personal fields erased; the id stays as a pseudonym (repeatable). */
    erasePersonal(id: string): Promise<void>;
    consents(id: string): Promise<unknown[]>;
    events(id: string): Promise<unknown[]>;
    /** Deletes the face (the retention rule): gallery first, then the account's face flags. */
    deleteFace(id: string): Promise<void>;
    retentionCandidates(before: number, limit: number, after?: { at: number; id: string }): Promise<{ id: string; email: string; face_enrolled_at: number }[]>;
  };
  faces: {
    /** Every template of the shopper, in every partition; other processes drop them from the gallery's change feed. */
    remove(shopperId: string): Promise<void>;
    /** Metadata only: ids, model, dates. */
    describe(shopperId: string): Promise<unknown[]>;
  };
  money: {
    /** Every wallet of the shopper: what is available and what is held by a payment still being made. */
    wallets(shopperId: string): Promise<{ currency: string; available: number; pending: number }[]>;
    movements(shopperId: string): Promise<unknown[]>;
    payments(shopperId: string): Promise<unknown[]>;
    refunds(shopperId: string): Promise<unknown[]>;
    topUps(shopperId: string): Promise<unknown[]>;
    /** Pending top-ups canceled, the bank reference retired (repeatable). */
    retireFunding(shopperId: string): Promise<{ canceled: number }>;
  };
  disputes: {
    ofShopper(shopperId: string): Promise<{ id: string; status: string }[]>;
  };
  members: {
    live(shopperId: string): Promise<EndedMembership[]>;
    /** Each live membership with its visits and purchases, as the shopper's own record. */
    exportOf(shopperId: string): Promise<unknown[]>;
    /** Every membership ends, fields wiped, merchants told by a member.deleted event (repeatable). */
    forget(shopperId: string): Promise<void>;
  };
  marketing: {
    coupons(shopperId: string): Promise<unknown[]>;
    inbox(shopperId: string): Promise<unknown[]>;
    /** Inbox and mutes go; the coupons of the ended memberships are voided (repeatable). */
    forget(shopperId: string, ended: readonly EndedMembership[]): Promise<void>;
  };
  /** When each shopper last paid by face. */
  lastFacePayments(shopperIds: readonly string[]): Promise<Map<string, number>>;
  /** Writes a mail into the outbox inside the given transaction. */
  mail(tx: SqlExecutor, m: { to: string; subject: string; text: string }): Promise<unknown>;
  /** Writes a notice from the platform into the shopper's inbox inside the given transaction. */
  notice(tx: SqlExecutor, n: { id: string; shopperId: string; title: string; body: string; at: number }): Promise<unknown>;
}

export interface RightsDeps {
  repo: RightsRepo;
  ports: RightsPorts;
  clock: Clock;
  ids: IdGenerator;
  /** Days a face template is kept after its last use (FACEPAY_TEMPLATE_RETENTION_DAYS). */
  retentionDays?: number;
  /** Where the portal is, for the links in mail. */
  portalUrl?: string;
}

export interface Deletion {
  id: string;
  status: 'running' | 'done';
  step: DeletionStep;
  requestedAt: number;
  finishedAt: number | null;
}

/** The steps in order; each is safe to run again after a crash in the middle of it. */
export const DELETION_STEPS: readonly DeletionStep[] = ['face', 'account', 'funding', 'list_memberships', 'memberships', 'marketing', 'personal'];

/** What the portal tells the shopper is kept after the deletion, and why. */
export const KEPT_AFTER_DELETION =
  'Payments, refunds and wallet movements are kept for the legal period for accounting records, ' +
  'under your account number only, which no longer leads to your name, e-mail or phone. ' +
  'Your face templates, sessions, memberships, inbox and personal details are deleted.';

function toDeletion(r: DeletionRow): Deletion {
  return { id: r.id, status: r.status, step: r.step, requestedAt: r.requested_at, finishedAt: r.finished_at };
}

const dateOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

export function createRightsService(deps: RightsDeps) {
  const { repo, ports, clock, ids } = deps;
  const retentionMs = (deps.retentionDays ?? DEFAULT_RETENTION_DAYS) * DAY;
  const noticeMs = RETENTION_NOTICE_DAYS * DAY;
  const now = (): number => clock.now().getTime();

  async function confirmPassword(shopperId: string, password: string): Promise<void> {
    if (!(await ports.shoppers.passwordMatches(shopperId, password)))
      throw new DomainError('forbidden', 'password_wrong', 'That is not your account password.');
  }

  /** Runs one step; every step can be run again with the same effect. */
  async function runStep(d: DeletionRow, step: DeletionStep): Promise<{ memberships?: string }> {
    const id = d.shopper_id;
    switch (step) {
      case 'face':
        // First and at once: from here no terminal in any process can recognise the shopper.
        await ports.faces.remove(id);
        return {};
      case 'account':
        await ports.shoppers.closeAccount(id);
        return {};
      case 'funding':
        await ports.money.retireFunding(id);
        return {};
      case 'list_memberships':
        return { memberships: JSON.stringify(await ports.members.live(id)) };
      case 'memberships':
        await ports.members.forget(id);
        return {};
      case 'marketing':
        await ports.marketing.forget(id, d.memberships === null ? [] : (JSON.parse(d.memberships) as EndedMembership[]));
        return {};
      case 'personal':
        await ports.shoppers.erasePersonal(id);
        return {};
      case 'finished':
        return {};
    }
  }

  /** Runs a deletion from its current step to the end; a failure leaves it at the failed step for a later resume. */
  async function drive(row: DeletionRow): Promise<DeletionRow> {
    let d = row;
    while (d.status === 'running') {
      const i = DELETION_STEPS.indexOf(d.step);
      const next: DeletionStep = DELETION_STEPS[i + 1] ?? 'finished';
      try {
        const extra = await runStep(d, d.step);
        if (next === 'finished') {
          const balances = (await ports.money.wallets(d.shopper_id)).filter((w) => w.available !== 0 || w.pending !== 0);
          await repo.transaction(async (r) => {
            if (!(await r.advance(d.id, d.step, next, now(), extra))) return;
            // Money that reached the wallet during the deletion (a late refund) stays on the pseudonymous wallet; the audit says so.
            await r.audit(ids.next('rau'), d.shopper_id, 'deletion_done', now(), balances.length > 0 ? { balances_kept: balances } : null);
          });
        } else {
          await repo.advance(d.id, d.step, next, now(), extra);
        }
      } catch (e) {
        await repo.failed(d.id, String((e as Error).message ?? e), now());
        throw e;
      }
      d = (await repo.deletionOf(d.shopper_id))!;
    }
    return d;
  }

  const service = {
    keptAfterDeletion: KEPT_AFTER_DELETION,
    retentionDays: retentionMs / DAY,

    /**
     * Everything the platform holds about the shopper, as one JSON document. The face section has
     * the templates' ids, model and dates: the templates themselves are not exported (they are
     * encrypted numbers meaningful only to the face model, and a copy outside would be a risk to
     * the shopper), and no image is ever kept. Asks for the password again; audited.
     */
    async exportData(shopperId: string, password: string): Promise<Record<string, unknown>> {
      await confirmPassword(shopperId, password);
      const at = now();
      const a = await ports.shoppers.get(shopperId);
      const [consents, events, face, wallets, movements, payments, refunds, topUps, memberships, coupons, inbox, disputes] = await Promise.all([
        ports.shoppers.consents(shopperId),
        ports.shoppers.events(shopperId),
        ports.faces.describe(shopperId),
        ports.money.wallets(shopperId),
        ports.money.movements(shopperId),
        ports.money.payments(shopperId),
        ports.money.refunds(shopperId),
        ports.money.topUps(shopperId),
        ports.members.exportOf(shopperId),
        ports.marketing.coupons(shopperId),
        ports.marketing.inbox(shopperId),
        ports.disputes.ofShopper(shopperId),
      ]);
      await repo.audit(ids.next('rau'), shopperId, 'export', at, null);
      return {
        object: 'data_export',
        format_version: 1,
        generated_at: new Date(at).toISOString(),
        account: {
          id: a.id,
          email: a.email,
          name: a.name,
          phone: a.phone,
          created_at: a.createdAt,
          face_pay_enabled: a.facePayEnabled,
          always_ask_digits: a.alwaysAskDigits,
          per_payment_limit: a.perPaymentLimit,
          face_pay_pin_set: a.hasPin,
        },
        consents,
        account_events: events,
        face: {
          enrolled_at: a.faceEnrolledAt,
          templates: face,
          retention_days: retentionMs / DAY,
          note:
            'The face templates themselves (encrypted lists of numbers) are not included, and no photo of you is ever kept. ' +
            'Delete your face in the portal to remove them.',
        },
        memberships,
        payments,
        refunds,
        wallets,
        wallet_movements: movements,
        top_ups: topUps,
        coupons,
        inbox,
        disputes,
        rights_history: await repo.auditOf(shopperId),
      };
    },

    /**
     * Deletes the account. Refused while money is still the shopper's: a non-zero wallet (spend it
     * or have it paid out at the service desk first, since a deleted account cannot be paid out to
     * anyone), a payment still holding money, or an open dispute (its refund would land in a wallet
     * nobody can use). Then a persisted workflow runs, step by step; asking again resumes it.
     */
    async requestDeletion(shopperId: string, password: string): Promise<Deletion> {
      const existing = await repo.deletionOf(shopperId);
      if (existing) return toDeletion(existing.status === 'running' ? await drive(existing) : existing);
      await confirmPassword(shopperId, password);
      const wallets = await ports.money.wallets(shopperId);
      const held = wallets.filter((w) => w.pending !== 0);
      if (held.length > 0)
        throw new DomainError('conflict', 'payment_in_progress', 'A payment is still being made from your wallet: try again in a few minutes.');
      const left = wallets.filter((w) => w.available !== 0);
      if (left.length > 0)
        throw new DomainError(
          'conflict',
          'wallet_not_empty',
          'Your wallet still holds money. Spend it, or have it paid out at the service desk, before deleting your account.',
          { balances: left.map((w) => ({ currency: w.currency, amount: w.available })) },
        );
      const open = (await ports.disputes.ofShopper(shopperId)).filter((d) => d.status === 'open');
      if (open.length > 0)
        throw new DomainError('conflict', 'disputes_open', 'You have a dispute still open: wait until the merchant has answered it.', {
          disputes: open.map((d) => d.id),
        });
      const at = now();
      const row: DeletionRow = {
        id: ids.next('del'),
        shopper_id: shopperId,
        status: 'running',
        step: 'face',
        memberships: null,
        requested_at: at,
        updated_at: at,
        finished_at: null,
        attempts: 0,
        last_error: null,
      };
      const created = await repo.transaction(async (r) => {
        if (!(await r.insertDeletion(row))) return false;
        await r.audit(ids.next('rau'), shopperId, 'deletion_requested', at, null);
        return true;
      });
      const d = created ? row : (await repo.deletionOf(shopperId))!;
      return toDeletion(await drive(d));
    },

    async deletionOf(shopperId: string): Promise<Deletion | null> {
      const d = await repo.deletionOf(shopperId);
      return d ? toDeletion(d) : null;
    },

    /** Resumes every deletion a crash or a failed step left running (the housekeeping worker). */
    async resumeDeletions(limit = 20): Promise<{ resumed: number; failed: number }> {
      let resumed = 0;
      let failed = 0;
      for (const d of await repo.running(limit)) {
        try {
          await drive(d);
          resumed++;
        } catch {
          failed++;
        }
      }
      return { resumed, failed };
    },

    /**
     * The retention rule, run on a schedule: a face whose last use (enrolment or face payment) is
     * older than the retention period is deleted. The shopper is told 30 days before, in the inbox
     * and by mail; deletion waits for the notice to be 30 days old, so a template is never deleted
     * unannounced (at most 30 days late, when the rule was switched on or shortened after its time
     * had passed).
     */
    async runRetention(): Promise<{ noticed: number; deleted: number }> {
      const t = now();
      let noticed = 0;
      let deleted = 0;
      let after: { at: number; id: string } | undefined;
      for (;;) {
        const candidates = await ports.shoppers.retentionCandidates(t - retentionMs + noticeMs, 500, after);
        const lastRow = candidates[candidates.length - 1];
        if (lastRow !== undefined) after = { at: lastRow.face_enrolled_at, id: lastRow.id };
        const paid = await ports.lastFacePayments(candidates.map((c) => c.id));
        for (const c of candidates) {
          const lastUse = Math.max(c.face_enrolled_at, paid.get(c.id) ?? 0);
          const dueAt = lastUse + retentionMs;
          if (t < dueAt - noticeMs) continue;
          const prior = await repo.retentionOf(c.id);
          const told = prior !== undefined && prior.last_use_at === lastUse && prior.deleted_at === null;
          if (!told) {
            const deleteOn = Math.max(dueAt, t + noticeMs);
            await repo.transaction(async (r, tx) => {
              await r.noticed(c.id, lastUse, t);
              await r.audit(ids.next('rau'), c.id, 'retention_notice', t, { last_use_at: lastUse, delete_on: dateOf(deleteOn) });
              const title = 'Your Facepay face template will be deleted';
              const text =
                `You have not paid by face since ${dateOf(lastUse)}. We keep a face template only while it is used, ` +
                `so yours will be deleted on ${dateOf(deleteOn)}. To keep paying by face, pay by face once before then. ` +
                `Nothing else in your account changes.`;
              await ports.notice(tx, { id: ids.next('inb'), shopperId: c.id, title, body: text, at: t });
              await ports.mail(tx, { to: c.email, subject: title, text: `${text}${deps.portalUrl ? `\n\n${deps.portalUrl}` : ''}` });
            });
            noticed++;
            continue;
          }
          if (t < Math.max(dueAt, prior.noticed_at + noticeMs)) continue;
          await ports.shoppers.deleteFace(c.id);
          await repo.transaction(async (r, tx) => {
            await r.retentionDeleted(c.id, t);
            await r.audit(ids.next('rau'), c.id, 'retention_deleted', t, { last_use_at: lastUse });
            const title = 'Your Facepay face template was deleted';
            const text =
              `As we told you, your face template was deleted today because it had not been used since ${dateOf(lastUse)}. ` +
              `Your account and wallet are unchanged; enrol your face again in the portal to pay by face.`;
            await ports.notice(tx, { id: ids.next('inb'), shopperId: c.id, title, body: text, at: t });
            await ports.mail(tx, { to: c.email, subject: title, text: `${text}${deps.portalUrl ? `\n\n${deps.portalUrl}` : ''}` });
          });
          deleted++;
        }
        if (candidates.length < 500) break;
      }
      return { noticed, deleted };
    },

    auditOf(shopperId: string) {
      return repo.auditOf(shopperId);
    },
  };
  return service;
}

export type RightsService = ReturnType<typeof createRightsService>;
