/**
 * members: per-merchant membership, consent records, purchase history, CRM profiles, segments.
 * It knows nothing but ids: the shopper's values come from the caller at join time, and a
 * merchant only ever sees its own random member id and the fields shared now.
 *
 * HTTP surface: merchant API in http/routes/members.ts (/v1/membership/programme, /v1/members,
 * /v1/members/export.csv, /v1/members/overview, /v1/members/{id}, its tags and coupons,
 * /v1/stats/non_members), the shopper's in http/routes/shopper-crm.ts (/v1/shopper/memberships...).
 * The service is built in service.ts from parts that each own one thing: programme.ts,
 * joining.ts (joining, leaving, consent, the shopper/member lookups), purchases.ts, crm.ts (with
 * scoring.ts: RFM and segments, filters), audience.ts (marketing's), over shared.ts's context.
 *
 * The terminal never calls it directly: the face-pay checkout (checkout.ts, createCheckout) asks
 * joinOffer for the decision and runs join when the shopper taps to join while confirming.
 *
 * platform-internal (payments calls them; never routed): memberIdFor, shopperIdFor, recordPayment
 * (after a face payment settles), recordRefund (after each refund), audience / audienceMember /
 * spendInWindows (marketing), importPurchases / importNonMemberPayments (imports and the demo),
 * forgetShopper (when a shopper deletes their account; then marketing.forgetShopper).
 *
 * Webhook events: member.joined {memberId, fields, terminalId}, member.updated {memberId, fields},
 * member.left {memberId}, member.deleted {memberId} (the shopper deleted their account); objectId is the member id; none carries a shopper id. The `events` sink
 * is called inside the transaction of the change with its executor, so the composition root can
 * wire `events: { publish: (tx, e) => webhooks.record(tx, e) }` and get them exactly once.
 * The composition root records them in the API's snake_case: `{object, id, member_id, ...}`.
 *
 * Error codes: programme_not_found, programme_name_invalid, benefits_too_long, field_unknown,
 * field_not_asked, field_invalid, time_zone_invalid, currency_invalid, consent_version_outdated,
 * membership_not_found, member_not_found, join_conflict, amount_invalid, payment_not_found,
 * refund_exceeds_payment, tag_invalid, segment_invalid, status_invalid, filter_invalid,
 * limit_invalid, cursor_invalid.
 */
export { createMembersService, type MembersService } from './service.ts';
export { MEMBERSHIP_CONSENT } from './types.ts';
export type {
  AudienceMember,
  JoinOffer,
  MemberEvent,
  MemberEventSink,
  MemberFilter,
  MemberProfile,
  MembersServiceDeps,
  MemberSummary,
  Membership,
  Page,
  Programme,
  Purchase,
} from './types.ts';
export { MemberRepo } from './repo.ts';
export { memberMigrations } from './migrations.ts';
export {
  MEMBER_FIELDS,
  SEGMENTS,
  SEGMENT_RULES,
  csvCell,
  localTime,
  rfmScores,
  segmentOf,
  type MemberField,
  type MemberFields,
  type Rfm,
  type Segment,
} from './rules.ts';
export { seedDemoCrm, type DemoCrmOptions, type DemoCrmResult, type DemoTill } from './demo.ts';
