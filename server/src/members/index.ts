/**
 * members: per-merchant membership, consent records, purchase history, CRM profiles, segments.
 * It knows nothing but ids: the shopper's values come from the caller at join time, and a
 * merchant only ever sees its own random member id and the fields shared now.
 *
 * Suggested HTTP surface (the lead wires it; each line names the service method):
 *
 * merchant API / console (merchant auth; merchantId from the credentials, never from the body)
 *   PUT    /v1/membership/programme                 setProgramme
 *   GET    /v1/membership/programme                 programme
 *   GET    /v1/members?segment&tag&last_visit_from&last_visit_to&spend_min&spend_max&q&status&cursor&limit
 *                                                   listMembers
 *   GET    /v1/members/export.csv?(same filters)    exportCsv (text/csv; charset=utf-8)
 *   GET    /v1/members/overview                     overview
 *   GET    /v1/members/{memberId}                   getMember
 *   POST   /v1/members/{memberId}/tags  {tag}       addTag
 *   DELETE /v1/members/{memberId}/tags/{tag}        removeTag
 *   GET    /v1/stats/non-members?from=YYYY-MM-DD&to=YYYY-MM-DD   nonMemberDaily
 *
 * device protocol (terminal auth; the shopper id comes from the payment's face match, server side)
 *   GET    /v1/device/payments/{id}/join-offer      joinOffer(merchantId, shopperId)
 *   POST   /v1/device/payments/{id}/join {fields, consent_version}   join (terminalId from the device)
 *
 * shopper portal (shopper session)
 *   GET    /v1/me/memberships                       memberships
 *   GET    /v1/me/memberships/{merchantId}/consents consents
 *   PATCH  /v1/me/memberships/{merchantId} {fields, consent_version}  updateSharing
 *   DELETE /v1/me/memberships/{merchantId}          leave
 *
 * platform-internal (payments calls them; never routed): memberIdFor, shopperIdFor, recordPayment
 * (after a face payment settles), recordRefund (after each refund), audience / audienceMember /
 * spendInWindows (marketing), importPurchases / importNonMemberPayments (imports and the demo),
 * forgetShopper (when a shopper deletes their account; then marketing.forgetShopper).
 *
 * Webhook events: member.joined {memberId, fields, terminalId}, member.updated {memberId, fields},
 * member.left {memberId}; objectId is the member id; none carries a shopper id. The `events` sink
 * is called inside the transaction of the change with its executor, so the composition root can
 * wire `events: { publish: (tx, e) => webhooks.record(tx, e) }` and get them exactly once.
 *
 * Error codes: programme_not_found, programme_name_invalid, benefits_too_long, field_unknown,
 * field_not_asked, field_invalid, time_zone_invalid, currency_invalid, consent_version_outdated,
 * membership_not_found, member_not_found, join_conflict, amount_invalid, payment_not_found,
 * refund_exceeds_payment, tag_invalid, segment_invalid, status_invalid, filter_invalid,
 * limit_invalid, cursor_invalid.
 */
export { createMembersService, MEMBERSHIP_CONSENT } from './service.ts';
export type {
  AudienceMember,
  JoinOffer,
  MemberEvent,
  MemberEventSink,
  MemberFilter,
  MemberProfile,
  MembersService,
  MembersServiceDeps,
  MemberSummary,
  Membership,
  Page,
  Programme,
  Purchase,
} from './service.ts';
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
export { seedDemoCrm, type DemoCrmOptions, type DemoCrmResult } from './demo.ts';
