/**
 * Staff: the people who sign in to the merchant console (owner, manager, cashier), their scrypt
 * password hashes, and their sessions (stored hashed, with an expiry). A session stands for the
 * merchant on the /v1 API with the scopes of its role; the http module turns it into MerchantAuth.
 * Invitations: the operator invites a merchant's owner by e-mail; the link makes the login.
 */
export { createStaffService, newPassword, staffScopes, STAFF_ROLES } from './service.ts';
export type { StaffService, StaffMember, StaffServiceDeps } from './service.ts';
export { StaffRepo } from './repo.ts';
export { staffMigrations } from './migrations.ts';
export { createStaffInvitations, INVITATION_HOURS } from './invitations.ts';
export type { Invitation, InvitationDeps, StaffInvitations } from './invitations.ts';
