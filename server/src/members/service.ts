import { DomainError, isCurrency, type Clock, type Random } from '../platform/index.ts';
import type { SqlExecutor } from '../storage/index.ts';
import type { MemberRepo, MemberRow, ProgrammeRow, PurchaseRow } from './repo.ts';
import {
  MEMBER_FIELDS,
  SEGMENTS,
  WEEKDAY_NAMES,
  checkTimeZone,
  csvRow,
  isMemberField,
  localTime,
  normaliseField,
  quintileScore,
  rfmScores,
  segmentOf,
  usualSlots,
  type MemberField,
  type MemberFields,
  type Rfm,
  type Segment,
} from './rules.ts';

/**
 * The membership consent shown on the terminal. The programme's name and the exact fields are
 * filled in; a new wording gets a new version and a join must quote the current one.
 */
export const MEMBERSHIP_CONSENT = {
  version: '2026-11-25',
  text: (programme: string, fields: readonly MemberField[]): string =>
    `I join ${programme}. The merchant gets a member number for me` +
    (fields.length ? ` and these details I choose to share: ${fields.join(', ')}` : '') +
    '. It never gets my face, a photo or my Facepay account. I can leave at any time in the Facepay portal, ' +
    'and the merchant then loses these details at once.',
};

/**
 * Something a webhook can carry: never a shopper id, only the merchant's own member id (which is
 * also the `objectId`). The shape matches what the merchants module's webhook outbox records.
 */
export interface MemberEvent {
  type: 'member.joined' | 'member.updated' | 'member.left' | 'member.deleted';
  merchantId: string;
  objectId: string;
  at: number;
  data: { memberId: string; fields?: MemberFields; terminalId?: string | null };
}

/**
 * Receives events inside the transaction that made the change, with its executor: write them there
 * (for example `webhooks.record(tx, event)`) and they are delivered exactly when the change
 * commits. It must not use another connection: on SQLite that would wait for this very transaction.
 */
export interface MemberEventSink {
  publish(tx: SqlExecutor, event: MemberEvent): void | Promise<void>;
}

export interface MembersServiceDeps {
  repo: MemberRepo;
  clock: Clock;
  random: Random;
  events?: MemberEventSink;
}

export interface Programme {
  merchantId: string;
  name: string;
  benefits: string;
  fields: MemberField[];
  currency: string;
  timeZone: string;
  createdAt: number;
  updatedAt: number;
}

export interface JoinOffer {
  merchantId: string;
  programmeName: string;
  benefits: string;
  fields: MemberField[];
  consentVersion: string;
  consentText: string;
}

/** What a merchant sees of a member: its own id, the fields shared now, and what happened in its shops. */
export interface MemberSummary {
  memberId: string;
  /** `deleted`: the shopper deleted their Facepay account (nothing personal is left). */
  status: 'active' | 'left' | 'deleted';
  joinedAt: number;
  leftAt: number | null;
  fields: MemberFields;
  tags: string[];
  visits: number;
  spend: number;
  averageTicket: number;
  firstVisitAt: number | null;
  lastVisitAt: number | null;
  rfm: Rfm;
  segment: Segment;
}

export interface Purchase {
  paymentId: string;
  storeId: string;
  amount: number;
  refunded: number;
  currency: string;
  at: number;
}

export interface MemberProfile extends MemberSummary {
  /** Visits per weekday, Monday first, in the merchant's time zone. */
  weekdays: number[];
  /** Visits per local hour 0-23. */
  hours: number[];
  usualDays: string[];
  usualHours: number[];
  stores: { storeId: string; visits: number; spend: number }[];
  recentPurchases: Purchase[];
}

/** What the shopper sees of one of their memberships in the portal. */
export interface Membership {
  memberId: string;
  merchantId: string;
  programmeName: string;
  benefits: string;
  joinedAt: number;
  sharedFields: MemberFields;
}

/** What marketing may know of a live member to pick an audience: no contact details, a birthday month at most. */
export interface AudienceMember {
  memberId: string;
  joinedAt: number;
  visits: number;
  spend: number;
  lastVisitAt: number | null;
  segment: Segment;
  birthdayMonth: number | null;
  tags: string[];
}

export interface MemberFilter {
  status?: 'active' | 'left' | 'all';
  segment?: Segment;
  tag?: string;
  lastVisitFrom?: number;
  lastVisitTo?: number;
  spendMin?: number;
  spendMax?: number;
  /** Free text over the consented name, e-mail and phone. */
  q?: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
  total: number;
}

const MAX_PAGE = 200;
const DEFAULT_PAGE = 50;
const TAG = /^[\p{L}\p{N}][\p{L}\p{N} _\-]{0,31}$/u;
const ID_ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';

function parseFields(s: string): MemberField[] {
  return s.split(',').filter(isMemberField);
}

function toProgramme(r: ProgrammeRow): Programme {
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
function sharedValues(r: MemberRow): MemberFields {
  if (r.left_at !== null) return {};
  const out: MemberFields = {};
  for (const f of parseFields(r.shared_fields)) {
    const v = r[f];
    if (v !== null) out[f] = v;
  }
  return out;
}

function amountOk(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0;
}

function checkCurrency(c: string): string {
  if (!/^[A-Z]{3}$/.test(c) || !isCurrency(c)) throw new DomainError('invalid', 'currency_invalid', 'A currency is a three-letter ISO 4217 code.');
  return c;
}

function encodeCursor(joinedAt: number, id: string): string {
  return Buffer.from(JSON.stringify([joinedAt, id])).toString('base64url');
}

function decodeCursor(c: string): [number, string] {
  try {
    const v = JSON.parse(Buffer.from(c, 'base64url').toString()) as unknown;
    if (Array.isArray(v) && typeof v[0] === 'number' && typeof v[1] === 'string') return [v[0], v[1]];
  } catch {
    // fall through to the error below
  }
  throw new DomainError('invalid', 'cursor_invalid', 'The page cursor is not valid.');
}

export function createMembersService(deps: MembersServiceDeps) {
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

  function summarise(r: MemberRow, rfm: Rfm, tags: string[], now: number): MemberSummary {
    return {
      memberId: r.id,
      status: r.left_at === null ? 'active' : r.shopper_id === 'erased' ? 'deleted' : 'left',
      joinedAt: r.joined_at,
      leftAt: r.left_at,
      fields: sharedValues(r),
      tags,
      visits: r.visits,
      spend: r.spend,
      averageTicket: r.visits > 0 ? Math.round(r.spend / r.visits) : 0,
      firstVisitAt: r.first_visit_at,
      lastVisitAt: r.last_visit_at,
      rfm,
      segment: segmentOf({ joinedAt: r.joined_at, visits: r.visits, lastVisitAt: r.last_visit_at }, rfm, now),
    };
  }

  /** Every member of the merchant with RFM and segment as of `now` (quintiles need the whole population). */
  async function summaries(merchantId: string, now: number): Promise<{ rows: MemberRow[]; summaries: Map<string, MemberSummary> }> {
    const rows = await repo.membersOf(merchantId);
    const tags = await repo.tagsByMember(merchantId);
    const rfm = rfmScores(rows.map((r) => ({ memberId: r.id, joinedAt: r.joined_at, visits: r.visits, spend: r.spend, lastVisitAt: r.last_visit_at })));
    const out = new Map<string, MemberSummary>();
    for (const r of rows) out.set(r.id, summarise(r, rfm.get(r.id) ?? { recency: 1, frequency: 1, monetary: 1 }, tags.get(r.id) ?? [], now));
    return { rows, summaries: out };
  }

  /** One member's summary without loading the others: the database counts who ranks below (same rule as rfmScores). */
  async function summaryOf(r: MemberRow, now: number): Promise<MemberSummary> {
    let rfm: Rfm = { recency: 1, frequency: 1, monetary: 1 };
    if (r.visits > 0 && r.last_visit_at !== null) {
      const c = await repo.rankCounts(r.merchant_id, r.last_visit_at, r.visits, r.spend);
      rfm = { recency: quintileScore(c.r, c.n), frequency: quintileScore(c.f, c.n), monetary: quintileScore(c.m, c.n) };
    }
    return summarise(r, rfm, await repo.tagsOf(r.id), now);
  }

  function checkFilter(f: MemberFilter): void {
    if (f.segment !== undefined && !(SEGMENTS as readonly string[]).includes(f.segment))
      throw new DomainError('invalid', 'segment_invalid', `A segment is one of ${SEGMENTS.join(', ')}.`);
    if (f.status !== undefined && !['active', 'left', 'all'].includes(f.status))
      throw new DomainError('invalid', 'status_invalid', 'A status is active, left or all.');
    for (const k of ['lastVisitFrom', 'lastVisitTo', 'spendMin', 'spendMax'] as const) {
      const v = f[k];
      if (v !== undefined && !Number.isSafeInteger(v)) throw new DomainError('invalid', 'filter_invalid', `${k} must be an integer.`);
    }
  }

  function matches(m: MemberSummary, f: MemberFilter): boolean {
    const status = f.status ?? 'active';
    if (status !== 'all' && m.status !== status) return false;
    if (f.segment !== undefined && m.segment !== f.segment) return false;
    if (f.tag !== undefined && !m.tags.includes(f.tag)) return false;
    if (f.lastVisitFrom !== undefined && (m.lastVisitAt === null || m.lastVisitAt < f.lastVisitFrom)) return false;
    if (f.lastVisitTo !== undefined && (m.lastVisitAt === null || m.lastVisitAt >= f.lastVisitTo)) return false;
    if (f.spendMin !== undefined && m.spend < f.spendMin) return false;
    if (f.spendMax !== undefined && m.spend > f.spendMax) return false;
    if (f.q !== undefined && f.q.trim() !== '') {
      const q = f.q.trim().toLowerCase();
      const digits = q.replace(/\D/g, '');
      const hit =
        (m.fields.name?.toLowerCase().includes(q) ?? false) ||
        (m.fields.email?.includes(q) ?? false) ||
        (digits.length >= 3 && (m.fields.phone?.includes(digits) ?? false));
      if (!hit) return false;
    }
    return true;
  }

  async function filtered(merchantId: string, filter: MemberFilter, now: number): Promise<MemberSummary[]> {
    checkFilter(filter);
    const { summaries: all } = await summaries(merchantId, now);
    return [...all.values()]
      .filter((m) => matches(m, filter))
      .sort((a, b) => b.joinedAt - a.joinedAt || (a.memberId < b.memberId ? 1 : a.memberId > b.memberId ? -1 : 0));
  }

  return {
    consent: MEMBERSHIP_CONSENT,

    // ---- programme (merchant side) ----

    async setProgramme(
      merchantId: string,
      input: { name: string; benefits: string; fields: string[]; currency: string; timeZone: string },
    ): Promise<Programme> {
      const name = input.name.trim();
      if (name.length === 0 || name.length > 80) throw new DomainError('invalid', 'programme_name_invalid', 'Name the programme (up to 80 characters).');
      const benefits = input.benefits.trim();
      if (benefits.length > 2000) throw new DomainError('invalid', 'benefits_too_long', 'Describe the benefits in up to 2000 characters.');
      const fields: MemberField[] = [];
      for (const f of input.fields) {
        if (!isMemberField(f)) throw new DomainError('invalid', 'field_unknown', `Unknown field ${f}; ask among ${MEMBER_FIELDS.join(', ')}.`);
        if (!fields.includes(f)) fields.push(f);
      }
      fields.sort((a, b) => MEMBER_FIELDS.indexOf(a) - MEMBER_FIELDS.indexOf(b));
      const now = clock.now().getTime();
      const existing = await repo.programme(merchantId);
      const row: ProgrammeRow = {
        merchant_id: merchantId,
        name,
        benefits,
        fields: fields.join(','),
        currency: checkCurrency(input.currency),
        time_zone: checkTimeZone(input.timeZone),
        created_at: existing?.created_at ?? now,
        updated_at: now,
      };
      await repo.upsertProgramme(row);
      return toProgramme(row);
    },

    async programme(merchantId: string): Promise<Programme> {
      return toProgramme(await mustProgramme(merchantId));
    },

    // ---- joining and leaving (terminal and portal side) ----

    /** What the terminal offers a shopper who just paid: null when there is no programme or they are already in. */
    async joinOffer(merchantId: string, shopperId: string): Promise<JoinOffer | null> {
      const p = await repo.programme(merchantId);
      if (p === undefined || (await repo.liveMember(merchantId, shopperId)) !== undefined) return null;
      const fields = parseFields(p.fields);
      return {
        merchantId,
        programmeName: p.name,
        benefits: p.benefits,
        fields,
        consentVersion: MEMBERSHIP_CONSENT.version,
        consentText: MEMBERSHIP_CONSENT.text(p.name, fields),
      };
    },

    /**
     * One tap on the terminal. `fields` holds the values the shopper agreed to share (a subset of
     * what the programme asks). Joining twice answers the live membership (`created: false`).
     * A shopper who left and joins again gets a new member id: the old history is not linked back.
     */
    async join(input: {
      merchantId: string;
      shopperId: string;
      fields: MemberFields;
      consentVersion: string;
      terminalId: string | null;
      /** Imports and the demo only: when the join happened. Never taken from a request. */
      at?: number;
    }): Promise<{ memberId: string; created: boolean; fields: MemberFields }> {
      checkConsentVersion(input.consentVersion);
      const programme = await mustProgramme(input.merchantId);
      const shared = checkShared(programme, input.fields);
      const now = input.at ?? clock.now().getTime();
      const result = await repo.transaction(async (tx) => {
        const existing = await tx.liveMember(input.merchantId, input.shopperId);
        if (existing) return { memberId: existing.id, created: false, fields: sharedValues(existing) };
        const id = newMemberId();
        const row: MemberRow = {
          id,
          merchant_id: input.merchantId,
          shopper_id: input.shopperId,
          joined_at: now,
          left_at: null,
          terminal_id: input.terminalId,
          shared_fields: shared.fields.join(','),
          name: shared.values.name ?? null,
          phone: shared.values.phone ?? null,
          birthday: shared.values.birthday ?? null,
          gender: shared.values.gender ?? null,
          email: shared.values.email ?? null,
          visits: 0,
          spend: 0,
          first_visit_at: null,
          last_visit_at: null,
        };
        if (!(await tx.insertMember(row))) {
          const raced = await tx.liveMember(input.merchantId, input.shopperId);
          if (raced) return { memberId: raced.id, created: false, fields: sharedValues(raced) };
          throw new DomainError('conflict', 'join_conflict', 'Joining clashed with another request; try again.');
        }
        await tx.insertConsent({
          id: `mcn_${id.slice(4)}`,
          member_id: id,
          merchant_id: input.merchantId,
          shopper_id: input.shopperId,
          fields: shared.fields.join(','),
          text_version: input.consentVersion,
          terminal_id: input.terminalId,
          accepted_at: now,
          withdrawn_at: null,
        });
        await publish(tx, {
          type: 'member.joined',
          merchantId: input.merchantId,
          at: now,
          data: { memberId: id, fields: shared.values, terminalId: input.terminalId },
        });
        return { memberId: id, created: true, fields: shared.values };
      });
      return result;
    },

    /** The shopper changes what they share; a new consent record replaces the old one. */
    async updateSharing(shopperId: string, merchantId: string, fields: MemberFields, consentVersion: string): Promise<Membership> {
      checkConsentVersion(consentVersion);
      const programme = await mustProgramme(merchantId);
      const shared = checkShared(programme, fields);
      const now = clock.now().getTime();
      const memberId = await repo.transaction(async (tx) => {
        const m = await tx.liveMember(merchantId, shopperId);
        if (!m) throw new DomainError('not_found', 'membership_not_found', 'You are not a member here.');
        await tx.updateSharedFields(m.id, shared.fields, shared.values);
        await tx.withdrawConsents(m.id, now);
        const n = (await tx.consents(m.id)).length;
        await tx.insertConsent({
          id: `mcn_${m.id.slice(4)}_${n}`,
          member_id: m.id,
          merchant_id: merchantId,
          shopper_id: shopperId,
          fields: shared.fields.join(','),
          text_version: consentVersion,
          terminal_id: null,
          accepted_at: now,
          withdrawn_at: null,
        });
        await publish(tx, { type: 'member.updated', merchantId, at: now, data: { memberId: m.id, fields: shared.values } });
        return m.id;
      });
      const m = (await repo.member(memberId))!;
      return { memberId, merchantId, programmeName: programme.name, benefits: programme.benefits, joinedAt: m.joined_at, sharedFields: sharedValues(m) };
    },

    /**
     * Leaving (from the portal) wipes the shared fields in the same statement that ends the
     * membership, so every later read by the merchant finds none. The purchases stay under the
     * member id, which no longer leads to anyone.
     */
    async leave(shopperId: string, merchantId: string): Promise<void> {
      const now = clock.now().getTime();
      await repo.transaction(async (tx) => {
        const m = await tx.liveMember(merchantId, shopperId);
        if (!m) throw new DomainError('not_found', 'membership_not_found', 'You are not a member here.');
        await tx.markLeft(m.id, now);
        await tx.withdrawConsents(m.id, now);
        await publish(tx, { type: 'member.left', merchantId, at: now, data: { memberId: m.id } });
      });
    },

    /**
     * The shopper deleted their account: every membership ends as if they left it, and the
     * platform forgets which shopper the old member ids were. Answers the merchants and member
     * ids concerned, so that marketing can void their coupons.
     */
    async forgetShopper(shopperId: string): Promise<{ merchantId: string; memberId: string }[]> {
      const now = clock.now().getTime();
      const ended = await repo.transaction(async (tx) => {
        const live = await tx.liveMembershipsOf(shopperId);
        for (const m of live) {
          await tx.markLeft(m.id, now);
          await tx.withdrawConsents(m.id, now);
          // Not "left": the merchant's CRM and webhooks learn that the person is gone for good.
          await publish(tx, { type: 'member.deleted', merchantId: m.merchant_id, at: now, data: { memberId: m.id } });
        }
        await tx.eraseShopper(shopperId);
        return live.map((m) => ({ merchantId: m.merchant_id, memberId: m.id }));
      });
      return ended;
    },

    /** Every live membership of a shopper, for the portal. */
    async memberships(shopperId: string): Promise<Membership[]> {
      const rows = await repo.liveMembershipsOf(shopperId);
      const out: Membership[] = [];
      for (const r of rows) {
        const p = await repo.programme(r.merchant_id);
        out.push({
          memberId: r.id,
          merchantId: r.merchant_id,
          programmeName: p?.name ?? '',
          benefits: p?.benefits ?? '',
          joinedAt: r.joined_at,
          sharedFields: sharedValues(r),
        });
      }
      return out;
    },

    async consents(shopperId: string, merchantId: string): Promise<{ fields: MemberField[]; textVersion: string; terminalId: string | null; acceptedAt: number; withdrawnAt: number | null }[]> {
      const m = await repo.liveMember(merchantId, shopperId);
      if (!m) throw new DomainError('not_found', 'membership_not_found', 'You are not a member here.');
      return (await repo.consents(m.id)).map((c) => ({
        fields: parseFields(c.fields),
        textVersion: c.text_version,
        terminalId: c.terminal_id,
        acceptedAt: c.accepted_at,
        withdrawnAt: c.withdrawn_at,
      }));
    },

    // ---- platform-internal lookups (never exposed to a merchant) ----

    /** The live member id of a shopper at a merchant, or null: for payments and offers. */
    async memberIdFor(merchantId: string, shopperId: string): Promise<string | null> {
      return (await repo.liveMember(merchantId, shopperId))?.id ?? null;
    },

    /** The shopper behind a live member id, or null once they left: for delivering to their inbox only. */
    async shopperIdFor(merchantId: string, memberId: string): Promise<string | null> {
      const m = await repo.member(memberId);
      return m && m.merchant_id === merchantId && m.left_at === null ? m.shopper_id : null;
    },

    // ---- purchases ----

    /**
     * Records a settled face payment. A live member's purchase lands under their member id; a
     * non-member's only adds to the merchant's daily aggregate (kept by payment id for
     * idempotency and refunds, with no shopper or member id). Retrying a payment id is a no-op.
     */
    async recordPayment(input: {
      merchantId: string;
      shopperId: string | null;
      paymentId: string;
      storeId: string;
      amount: number;
      currency: string;
      at: number;
    }): Promise<{ memberId: string | null; recorded: boolean }> {
      if (!amountOk(input.amount)) throw new DomainError('invalid', 'amount_invalid', 'An amount is a positive whole number of minor units.');
      checkCurrency(input.currency);
      const programme = await repo.programme(input.merchantId);
      return repo.transaction(async (tx) => {
        const already = await tx.purchase(input.paymentId);
        if (already) return { memberId: already.member_id, recorded: false };
        if (await tx.lockNonmemberPayment(input.paymentId)) return { memberId: null, recorded: false };
        const member = input.shopperId === null ? undefined : await tx.liveMember(input.merchantId, input.shopperId);
        if (member === undefined) {
          const day = localTime(input.at, programme?.time_zone ?? 'UTC').date;
          const recorded = await tx.insertNonmemberPayment({
            payment_id: input.paymentId,
            merchant_id: input.merchantId,
            day,
            amount: input.amount,
            currency: input.currency,
          });
          return { memberId: null, recorded };
        }
        const recorded = await tx.insertPurchase({
          payment_id: input.paymentId,
          merchant_id: input.merchantId,
          member_id: member.id,
          store_id: input.storeId,
          amount: input.amount,
          refunded: 0,
          currency: input.currency,
          at: input.at,
        });
        if (recorded) await tx.refreshStats(member.id, programme?.currency ?? input.currency);
        return { memberId: member.id, recorded };
      });
    },

    /**
     * A refund lowers the purchase's net amount (or the aggregate's); a purchase refunded in full
     * stops counting as a visit. Idempotent per refund id; refunding more than is left is refused.
     */
    async recordRefund(input: { merchantId: string; paymentId: string; refundId: string; amount: number; at: number }): Promise<{
      memberId: string | null;
      remaining: number;
    }> {
      if (!amountOk(input.amount)) throw new DomainError('invalid', 'amount_invalid', 'An amount is a positive whole number of minor units.');
      const programme = await repo.programme(input.merchantId);
      return repo.transaction(async (tx) => {
        const p = await tx.lockPurchase(input.paymentId);
        const np = p ? undefined : await tx.lockNonmemberPayment(input.paymentId);
        const target = p ?? np;
        if (!target || target.merchant_id !== input.merchantId)
          throw new DomainError('not_found', 'payment_not_found', 'No recorded payment with this id.');
        const fresh = await tx.insertRefund(input.refundId, input.paymentId, input.amount, input.at);
        if (!fresh) return { memberId: p?.member_id ?? null, remaining: target.amount - target.refunded };
        if (target.refunded + input.amount > target.amount)
          throw new DomainError('conflict', 'refund_exceeds_payment', 'The refunds would exceed the payment.');
        if (p) {
          await tx.addPurchaseRefund(input.paymentId, input.amount);
          await tx.refreshStats(p.member_id, programme?.currency ?? p.currency);
        } else {
          await tx.addNonmemberRefund(input.paymentId, input.amount);
        }
        return { memberId: p?.member_id ?? null, remaining: target.amount - target.refunded - input.amount };
      });
    },

    /** Bulk load of past purchases of members (imports and the demo): one transaction, stats refreshed once per member. */
    async importPurchases(
      merchantId: string,
      purchases: readonly { memberId: string; paymentId: string; storeId: string; amount: number; currency: string; at: number }[],
    ): Promise<number> {
      const programme = await mustProgramme(merchantId);
      for (const p of purchases) if (!amountOk(p.amount)) throw new DomainError('invalid', 'amount_invalid', `Bad amount for ${p.paymentId}.`);
      return repo.transaction(async (tx) => {
        const touched = new Set<string>();
        let n = 0;
        for (const p of purchases) {
          if (!touched.has(p.memberId)) {
            const m = await tx.member(p.memberId);
            if (!m || m.merchant_id !== merchantId) throw new DomainError('not_found', 'member_not_found', 'No such member.');
            touched.add(p.memberId);
          }
          const ok = await tx.insertPurchase({
            payment_id: p.paymentId,
            merchant_id: merchantId,
            member_id: p.memberId,
            store_id: p.storeId,
            amount: p.amount,
            refunded: 0,
            currency: p.currency,
            at: p.at,
          });
          if (ok) n++;
        }
        for (const id of touched) await tx.refreshStats(id, programme.currency);
        return n;
      });
    },

    /** Bulk load of past non-member face payments (imports and the demo), into the daily aggregates. */
    async importNonMemberPayments(
      merchantId: string,
      payments: readonly { paymentId: string; amount: number; currency: string; at: number }[],
    ): Promise<number> {
      const tz = (await repo.programme(merchantId))?.time_zone ?? 'UTC';
      for (const p of payments) if (!amountOk(p.amount)) throw new DomainError('invalid', 'amount_invalid', `Bad amount for ${p.paymentId}.`);
      return repo.transaction(async (tx) => {
        let n = 0;
        for (const p of payments)
          if (await tx.insertNonmemberPayment({ payment_id: p.paymentId, merchant_id: merchantId, day: localTime(p.at, tz).date, amount: p.amount, currency: checkCurrency(p.currency) }))
            n++;
        return n;
      });
    },

    /** Face payments by non-members, per local day: count and net amount, nothing else. */
    async nonMemberDaily(merchantId: string, fromDay: string, toDay: string) {
      return repo.nonmemberDaily(merchantId, fromDay, toDay);
    },

    // ---- CRM (merchant side) ----

    async getMember(merchantId: string, memberId: string, now = clock.now().getTime()): Promise<MemberProfile> {
      const row = await mustMember(merchantId, memberId);
      const programme = await mustProgramme(merchantId);
      const summary = await summaryOf(row, now);
      const purchases = await repo.purchasesOf(row.id);
      const weekdays = new Array<number>(7).fill(0);
      const hours = new Array<number>(24).fill(0);
      const stores = new Map<string, { storeId: string; visits: number; spend: number }>();
      for (const p of purchases) {
        if (p.amount <= p.refunded) continue;
        const t = localTime(p.at, programme.time_zone);
        weekdays[t.weekday]! += 1;
        hours[t.hour]! += 1;
        const s = stores.get(p.store_id) ?? { storeId: p.store_id, visits: 0, spend: 0 };
        s.visits += 1;
        if (p.currency === programme.currency) s.spend += p.amount - p.refunded;
        stores.set(p.store_id, s);
      }
      return {
        ...summary,
        weekdays,
        hours,
        usualDays: usualSlots(weekdays).map((d) => WEEKDAY_NAMES[d]!),
        usualHours: usualSlots(hours),
        stores: [...stores.values()].sort((a, b) => b.visits - a.visits || a.storeId.localeCompare(b.storeId)),
        recentPurchases: purchases.slice(0, 20).map(toPurchase),
      };
    },

    async listMembers(
      merchantId: string,
      filter: MemberFilter = {},
      page: { cursor?: string; limit?: number } = {},
      now = clock.now().getTime(),
    ): Promise<Page<MemberSummary>> {
      const limit = page.limit ?? DEFAULT_PAGE;
      if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE)
        throw new DomainError('invalid', 'limit_invalid', `A page holds 1 to ${MAX_PAGE} members.`);
      const all = await filtered(merchantId, filter, now);
      let start = 0;
      if (page.cursor !== undefined) {
        const [at, id] = decodeCursor(page.cursor);
        // Members sort by join time then id, both descending; the page starts after the cursor.
        start = all.findIndex((m) => m.joinedAt < at || (m.joinedAt === at && m.memberId < id));
        if (start < 0) start = all.length;
      }
      const items = all.slice(start, start + limit);
      const last = items[items.length - 1];
      const nextCursor = start + limit < all.length && last ? encodeCursor(last.joinedAt, last.memberId) : null;
      return { items, nextCursor, total: all.length };
    },

    /** CSV of the filtered members: consented fields only, formula-safe cells, RFC 4180 quoting. */
    async exportCsv(merchantId: string, filter: MemberFilter = {}, now = clock.now().getTime()): Promise<string> {
      const programme = await mustProgramme(merchantId);
      const members = await filtered(merchantId, filter, now);
      const asked = new Set<MemberField>(parseFields(programme.fields));
      for (const m of members) for (const k of Object.keys(m.fields)) if (isMemberField(k)) asked.add(k);
      const fieldCols = MEMBER_FIELDS.filter((f) => asked.has(f));
      const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
      let out = csvRow([
        'member_id', 'status', 'joined_at', ...fieldCols, 'visits', 'spend', 'average_ticket', 'last_visit_at',
        'recency', 'frequency', 'monetary', 'segment', 'tags',
      ]);
      for (const m of members) {
        out += csvRow([
          m.memberId, m.status, iso(m.joinedAt), ...fieldCols.map((f) => m.fields[f] ?? null), m.visits, m.spend, m.averageTicket,
          iso(m.lastVisitAt), m.rfm.recency, m.rfm.frequency, m.rfm.monetary, m.segment, m.tags.join(';'),
        ]);
      }
      return out;
    },

    /** Members per segment and the live total, for the CRM's first screen. */
    async overview(merchantId: string, now = clock.now().getTime()): Promise<{ members: number; left: number; segments: Record<Segment, number> }> {
      const { summaries: all } = await summaries(merchantId, now);
      const segments = Object.fromEntries(SEGMENTS.map((s) => [s, 0])) as Record<Segment, number>;
      let members = 0;
      let left = 0;
      for (const m of all.values()) {
        if (m.status === 'left') {
          left++;
          continue;
        }
        members++;
        segments[m.segment]++;
      }
      return { members, left, segments };
    },

    async addTag(merchantId: string, memberId: string, tag: string): Promise<string[]> {
      const t = tag.trim();
      if (!TAG.test(t)) throw new DomainError('invalid', 'tag_invalid', 'A tag is 1 to 32 letters, digits, spaces, - or _.');
      await mustMember(merchantId, memberId);
      await repo.addTag(merchantId, memberId, t);
      return repo.tagsOf(memberId);
    },

    async removeTag(merchantId: string, memberId: string, tag: string): Promise<string[]> {
      await mustMember(merchantId, memberId);
      await repo.removeTag(memberId, tag.trim());
      return repo.tagsOf(memberId);
    },

    // ---- for marketing ----

    /** Live members with what targeting needs and no contact details. */
    async audience(merchantId: string, now = clock.now().getTime()): Promise<AudienceMember[]> {
      const { rows, summaries: all } = await summaries(merchantId, now);
      const out: AudienceMember[] = [];
      for (const r of rows) {
        if (r.left_at !== null) continue;
        out.push(toAudience(r, all.get(r.id)!));
      }
      return out.sort((a, b) => (a.memberId < b.memberId ? -1 : 1));
    },

    async audienceMember(merchantId: string, memberId: string, now = clock.now().getTime()): Promise<AudienceMember | null> {
      const r = await repo.member(memberId);
      return r && r.merchant_id === merchantId && r.left_at === null ? toAudience(r, await summaryOf(r, now)) : null;
    },

    /** Net spend of each member between `from` (inclusive) and `to` (exclusive), in the programme's currency. */
    async spendInWindows(merchantId: string, windows: readonly { memberId: string; from: number; to: number }[]): Promise<Map<string, number>> {
      const out = new Map<string, number>();
      if (windows.length === 0) return out;
      const programme = await mustProgramme(merchantId);
      let from = Infinity;
      let to = -Infinity;
      for (const w of windows) {
        from = Math.min(from, w.from);
        to = Math.max(to, w.to);
      }
      const byMember = new Map<string, { at: number; net: number }[]>();
      for (const p of await repo.netSpendBetween(merchantId, from, to, programme.currency)) {
        const list = byMember.get(p.member_id);
        if (list) list.push(p);
        else byMember.set(p.member_id, [p]);
      }
      for (const w of windows) {
        let s = 0;
        for (const p of byMember.get(w.memberId) ?? []) if (p.at >= w.from && p.at < w.to) s += Number(p.net);
        out.set(w.memberId, s);
      }
      return out;
    },
  };
}

function toPurchase(p: PurchaseRow): Purchase {
  return { paymentId: p.payment_id, storeId: p.store_id, amount: p.amount, refunded: p.refunded, currency: p.currency, at: p.at };
}

function toAudience(r: MemberRow, s: MemberSummary): AudienceMember {
  const birthday = parseFields(r.shared_fields).includes('birthday') ? r.birthday : null;
  return {
    memberId: r.id,
    joinedAt: r.joined_at,
    visits: r.visits,
    spend: r.spend,
    lastVisitAt: r.last_visit_at,
    segment: s.segment,
    birthdayMonth: birthday ? Number(birthday.slice(5, 7)) : null,
    tags: s.tags,
  };
}

export type MembersService = ReturnType<typeof createMembersService>;
