/** The members module's public shapes and the membership consent text. */
import type { SqlExecutor } from '../storage/index.ts';
import type { Clock, Random } from '../platform/index.ts';
import type { MemberRepo } from './repo.ts';
import type { MemberField, MemberFields, Rfm, Segment } from './rules.ts';

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
