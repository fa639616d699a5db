import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { DomainError, hashPassword, verifyPassword, DEFAULT_SCRYPT_COST, type Clock, type IdGenerator, type Random, type ScryptCost } from '../platform/index.ts';
import type { SqlExecutor } from '../storage/index.ts';
import type { ConsentRow, ShopperRepo, ShopperRow } from './repo.ts';

/**
 * The face-payment consent, separate from the terms of the account. A new text gets a new version;
 * an acceptance records the version it was given for, and enrolment asks for the current one.
 */
export const FACE_PAY_CONSENT = {
  kind: 'face_pay',
  version: '2026-11-25',
  text:
    'I agree that Facepay keeps a face template (a list of numbers computed from my face, never a ' +
    'photo) to recognise me when I choose to pay by face at a terminal. It is encrypted, used only ' +
    'for payments, never given to a merchant, and deleted at once when I delete my face or withdraw ' +
    'this consent.',
} as const;

/** What the shoppers module needs from the gallery: it never sees vectors' meaning, only passes them on. */
export interface FaceTemplatePort {
  enrol(
    shopperId: string,
    templates: readonly { embedding: Float32Array; model: { name: string; version: string } }[],
    profile: { phoneLast4: string | null; alwaysAskDigits: boolean },
  ): Promise<void>;
  updateProfile(shopperId: string, profile: { phoneLast4: string | null; alwaysAskDigits: boolean }): Promise<void>;
  remove(shopperId: string): Promise<void>;
  /** Whether the current face model can recognise the shopper (false after a model change until they enrol again). */
  searchable(shopperId: string): Promise<boolean>;
  /** What is kept of the shopper's face, for their data export: never the template or any image. */
  describe?(shopperId: string): Promise<FaceTemplateFacts[]>;
}

export interface FaceTemplateFacts {
  templateId: string;
  model: { name: string; version: string };
  dimensions: number;
  createdAt: number;
}

export interface EnrolmentChallenge {
  id: string;
  kind: 'turn_left' | 'turn_right' | 'blink';
  issuedAt: number;
  expiresAt: number;
}

/** What enrolment needs from the face engine: the same challenge as at a terminal, then templates. */
export interface FaceEnrolmentPort {
  issueChallenge(): EnrolmentChallenge;
  /** Checks the frames answer the challenge (one live face throughout) and makes 1 to 5 templates. */
  templatesFor(
    challenge: EnrolmentChallenge,
    frames: readonly { at: number; image: Uint8Array }[],
  ): Promise<
    | { ok: true; templates: { embedding: Float32Array; model: { name: string; version: string } }[] }
    | { ok: false; code: string; message: string }
  >;
}

export interface Shopper {
  id: string;
  email: string;
  name: string;
  /** What a terminal may show: enough for the shopper to recognise, too little for a bystander. */
  maskedName: string;
  phone: string | null;
  createdAt: number;
  facePayEnabled: boolean;
  alwaysAskDigits: boolean;
  perPaymentLimit: number | null;
  faceEnrolled: boolean;
  /** Whether a face-pay PIN is set; the PIN and its hash never leave this module. */
  hasPin: boolean;
  faceEnrolledAt: number | null;
  /** When the shopper deleted the account (then nothing personal is left); null while open. */
  deletedAt: number | null;
}

export interface ShopperServiceDeps {
  repo: ShopperRepo;
  faces: FaceTemplatePort;
  /** Absent where enrolment from camera frames is not offered (tests of the account alone). */
  enrolment?: FaceEnrolmentPort;
  /** Signs enrolment challenges so that any API process can check one it did not issue. */
  challengeSecret?: Buffer;
  clock: Clock;
  ids: IdGenerator;
  random: Random;
  scryptCost?: ScryptCost;
  sessionTtlMs?: number;
  payCodeTtlMs?: number;
  /** Enrolment answers a shopper may send per window (each costs the face engine a whole sequence). */
  enrolmentLimit?: { count: number; windowMs: number };
  /**
   * Someone signed up with the e-mail of an existing account. The answer to the sign-up does not
   * say so (it would tell anyone which e-mails have accounts); the owner is told here instead
   * (by e-mail once there is a mail service; a log line until then).
   */
  onSignUpForExistingAccount?: (shopperId: string) => Promise<void> | void;
  /**
   * The wrong second factors (phone digits, PIN) counted against the shopper for the lockout;
   * cleared when they switch face pay on again with their password. Absent: nothing is counted.
   */
  factorFailures?: { clear(shopperId: string): Promise<void> };
}

export const DEFAULT_ENROLMENT_LIMIT = { count: 10, windowMs: 60 * 60 * 1000 };

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const MIN_PASSWORD = 10;
const MAX_LIMIT = 10_000_000_00;
const PAY_CODE_DIGITS = 12;

export function maskName(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  const first = parts[0] ?? '';
  const head = first.length <= 1 ? first : `${first[0]}${'*'.repeat(Math.min(first.length - 1, 4))}`;
  const last = parts.length > 1 ? ` ${parts[parts.length - 1]?.[0] ?? ''}.` : '';
  return `${head}${last}`;
}

function toShopper(r: ShopperRow): Shopper {
  return {
    id: r.id,
    email: r.email,
    name: r.name,
    maskedName: maskName(r.name),
    phone: r.phone,
    createdAt: r.created_at,
    facePayEnabled: r.face_pay_enabled === 1,
    alwaysAskDigits: r.always_ask_digits === 1,
    perPaymentLimit: r.per_payment_limit,
    faceEnrolled: r.face_enrolled_at !== null,
    hasPin: typeof r.face_pay_pin_hash === 'string',
    faceEnrolledAt: r.face_enrolled_at,
    deletedAt: r.deleted_at ?? null,
  };
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('base64url');
}

function normalisePhone(phone: string): string {
  const digits = phone.replace(/[\s\-().]/g, '');
  if (!/^\+?\d{6,15}$/.test(digits)) throw new DomainError('invalid', 'phone_invalid', 'Enter a phone number of 6 to 15 digits.');
  return digits;
}

function last4(phone: string | null): string | null {
  return phone === null ? null : phone.slice(-4);
}

/** Six digits, not all the same and not a run such as 123456 or 987654: the first guesses of anyone. */
function checkPin(pin: unknown): string {
  if (typeof pin !== 'string' || !/^\d{6}$/.test(pin)) throw new DomainError('invalid', 'pin_invalid', 'A face-pay PIN is 6 digits.');
  const d = [...pin].map(Number);
  const steps = new Set(d.slice(1).map((x, i) => x - d[i]!));
  if (steps.size === 1 && [0, 1, -1].includes([...steps][0]!))
    throw new DomainError('invalid', 'pin_too_simple', 'Choose a PIN that is not one digit repeated or a run like 123456.');
  return pin;
}

const payCodeInvalid = (): DomainError => new DomainError('unprocessable', 'pay_code_invalid', 'This pay code is wrong, used or expired.');

export function createShopperService(deps: ShopperServiceDeps) {
  const { repo, faces, clock, ids, random } = deps;
  const cost = deps.scryptCost ?? DEFAULT_SCRYPT_COST;
  const sessionTtl = deps.sessionTtlMs ?? 30 * 24 * 3600 * 1000;
  const payCodeTtl = deps.payCodeTtlMs ?? 2 * 60 * 1000;
  // Hashing a throwaway password for unknown e-mails keeps a failed login's time the same either way.
  const dummyHash = hashPassword('not-a-real-password', random, cost);

  async function mustGet(id: string): Promise<ShopperRow> {
    const row = await repo.byId(id);
    if (row === undefined) throw new DomainError('not_found', 'shopper_not_found', 'No such shopper.');
    return row;
  }

  // The challenge travels to the browser and back as a signed token: no table, any process checks it.
  const secret = deps.challengeSecret ?? random.bytes(32);
  function signChallenge(shopperId: string, c: EnrolmentChallenge): string {
    const payload = Buffer.from(JSON.stringify({ s: shopperId, ...c })).toString('base64url');
    return `${payload}.${createHmac('sha256', secret).update(payload).digest('base64url')}`;
  }
  function openChallenge(shopperId: string, token: string): EnrolmentChallenge {
    const [payload, mac] = token.split('.');
    const bad = new DomainError('unprocessable', 'challenge_invalid', 'This face check is not valid: start again.');
    if (!payload || !mac) throw bad;
    const expected = createHmac('sha256', secret).update(payload).digest();
    const given = Buffer.from(mac, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw bad;
    const c = JSON.parse(Buffer.from(payload, 'base64url').toString()) as EnrolmentChallenge & { s: string };
    if (c.s !== shopperId) throw bad;
    return { id: c.id, kind: c.kind, issuedAt: c.issuedAt, expiresAt: c.expiresAt };
  }

  async function newSession(shopperId: string): Promise<string> {
    const token = random.bytes(32).toString('base64url');
    const now = clock.now().getTime();
    await repo.insertSession(sha256(token), shopperId, now, now + sessionTtl);
    return token;
  }

  /** A new account's row from what was typed, checked; the password hashed. */
  async function newShopperRow(input: { email: string; password: string; name: string; phone?: string | null }): Promise<ShopperRow> {
    const email = input.email.trim().toLowerCase();
    if (!EMAIL.test(email) || email.length > 254) throw new DomainError('invalid', 'email_invalid', 'Enter a valid e-mail address.');
    if (input.password.length < MIN_PASSWORD || input.password.length > 1024)
      throw new DomainError('invalid', 'password_too_short', `Choose a password of at least ${MIN_PASSWORD} characters.`);
    const name = input.name.trim();
    if (name.length === 0 || name.length > 100) throw new DomainError('invalid', 'name_invalid', 'Enter your name (up to 100 characters).');
    const row: ShopperRow = {
      id: ids.next('shp'),
      email,
      password_hash: await hashPassword(input.password, random, cost),
      name,
      phone: input.phone ? normalisePhone(input.phone) : null,
      created_at: clock.now().getTime(),
      face_pay_enabled: 0,
      always_ask_digits: 0,
      per_payment_limit: null,
      face_enrolled_at: null,
    };
    return row;
  }

  const service = {
    consentText: FACE_PAY_CONSENT,

    /**
     * Sign-up as the public API offers it: the same answer whether or not the e-mail already has
     * an account, and the same work (one password hash, one insert attempt), so neither the answer
     * nor its timing tells who is a customer. No session: the new shopper signs in with the
     * password, which for an existing e-mail only its owner knows. The owner of an existing
     * account is told through `onSignUpForExistingAccount`.
     */
    async register(input: { email: string; password: string; name: string; phone?: string | null }): Promise<void> {
      const row = await newShopperRow(input);
      if (await repo.insert(row)) return;
      const existing = await repo.byEmail(row.email);
      if (existing !== undefined) await deps.onSignUpForExistingAccount?.(existing.id);
    },

    async signUp(input: { email: string; password: string; name: string; phone?: string | null }): Promise<{ shopper: Shopper; sessionToken: string }> {
      const row = await newShopperRow(input);
      if (!(await repo.insert(row))) throw new DomainError('conflict', 'email_taken', 'An account with this e-mail already exists.');
      return { shopper: toShopper(row), sessionToken: await newSession(row.id) };
    },

    async logIn(emailInput: string, password: string): Promise<{ shopper: Shopper; sessionToken: string }> {
      const row = await repo.byEmail(emailInput.trim().toLowerCase());
      const ok = await verifyPassword(password, row?.password_hash ?? (await dummyHash));
      if (row === undefined || !ok || (row.deleted_at ?? null) !== null) throw new DomainError('unauthorized', 'invalid_credentials', 'That e-mail and password do not match.');
      return { shopper: toShopper(row), sessionToken: await newSession(row.id) };
    },

    async logOut(token: string): Promise<void> {
      await repo.deleteSession(sha256(token));
    },

    /** For a password reset: the account with this e-mail, if any. */
    async findByEmail(email: string): Promise<{ id: string; email: string } | undefined> {
      const row = await repo.byEmail(email.trim().toLowerCase());
      return row ? { id: row.id, email: row.email } : undefined;
    },

    checkPassword(password: string): void {
      if (password.length < MIN_PASSWORD || password.length > 1024)
        throw new DomainError('invalid', 'password_too_short', `Choose a password of at least ${MIN_PASSWORD} characters.`);
    },

    /** A new password (a reset); every session of the shopper ends. */
    async setPassword(id: string, password: string): Promise<void> {
      this.checkPassword(password);
      // A reset link mailed before the account was deleted must not bring the account back.
      if (((await mustGet(id)).deleted_at ?? null) !== null) throw new DomainError('not_found', 'shopper_not_found', 'No such shopper.');
      await repo.setPasswordHash(id, await hashPassword(password, random, cost));
    },

    /** The shopper behind a session token, or a `session_invalid` error. */
    async authenticate(token: string): Promise<Shopper> {
      const id = await repo.sessionShopper(sha256(token), clock.now().getTime());
      const row = id === undefined ? undefined : await repo.byId(id);
      if (row === undefined || (row.deleted_at ?? null) !== null) throw new DomainError('unauthorized', 'session_invalid', 'Please sign in again.');
      return toShopper(row);
    },

    async get(id: string): Promise<Shopper> {
      return toShopper(await mustGet(id));
    },

    /** For the operator's service desk: the shopper with this e-mail, or those with this phone (a phone may be shared). */
    async findByContact(q: { email?: string; phone?: string }): Promise<Shopper[]> {
      if (q.email !== undefined) {
        const r = await repo.byEmail(q.email.trim().toLowerCase());
        return r ? [toShopper(r)] : [];
      }
      if (q.phone !== undefined) return (await repo.byPhone(normalisePhone(q.phone))).map(toShopper);
      return [];
    },

    async acceptFacePayConsent(shopperId: string, version: string): Promise<ConsentRow> {
      await mustGet(shopperId);
      if (version !== FACE_PAY_CONSENT.version)
        throw new DomainError('conflict', 'consent_version_outdated', 'The consent text has changed: please read it again.', {
          current_version: FACE_PAY_CONSENT.version,
        });
      const existing = await repo.activeConsent(shopperId, FACE_PAY_CONSENT.kind);
      if (existing?.text_version === version) return existing;
      const row: ConsentRow = {
        id: ids.next('cns'),
        shopper_id: shopperId,
        kind: FACE_PAY_CONSENT.kind,
        text_version: version,
        accepted_at: clock.now().getTime(),
        withdrawn_at: null,
      };
      await repo.insertConsent(row);
      return row;
    },

    consents(shopperId: string): Promise<ConsentRow[]> {
      return repo.consents(shopperId);
    },

    /**
     * Keeps the shopper's face templates for payment. The frames were already checked (quality,
     * liveness challenge, one face throughout) by the caller; this only records the result.
     */
    async enrolFace(
      shopperId: string,
      templates: readonly { embedding: Float32Array; model: { name: string; version: string } }[],
    ): Promise<Shopper> {
      const row = await mustGet(shopperId);
      const consent = await repo.activeConsent(shopperId, FACE_PAY_CONSENT.kind);
      if (consent?.text_version !== FACE_PAY_CONSENT.version)
        throw new DomainError('forbidden', 'consent_required', 'Agree to face payment before enrolling your face.');
      if (templates.length < 1 || templates.length > 5)
        throw new DomainError('invalid', 'enrolment_frames', 'Enrolment takes between 1 and 5 face templates.');
      await faces.enrol(shopperId, templates, { phoneLast4: last4(row.phone), alwaysAskDigits: row.always_ask_digits === 1 });
      const now = clock.now().getTime();
      await repo.update(shopperId, { face_enrolled_at: now, face_pay_enabled: 1 });
      await repo.insertEvent(ids.next('sev'), shopperId, 'face.enrolled', now);
      return toShopper(await mustGet(shopperId));
    },

    /** A liveness challenge for enrolment, as a terminal would ask; consent comes first. */
    async issueEnrolmentChallenge(shopperId: string): Promise<{ token: string; kind: EnrolmentChallenge['kind']; expiresAt: number }> {
      if (deps.enrolment === undefined) throw new DomainError('unavailable', 'enrolment_unavailable', 'Face enrolment is not available here.');
      await mustGet(shopperId);
      const consent = await repo.activeConsent(shopperId, FACE_PAY_CONSENT.kind);
      if (consent?.text_version !== FACE_PAY_CONSENT.version)
        throw new DomainError('forbidden', 'consent_required', 'Agree to face payment before enrolling your face.');
      const c = deps.enrolment.issueChallenge();
      return { token: signChallenge(shopperId, c), kind: c.kind, expiresAt: c.expiresAt };
    },

    /** Enrols from the frames that answered the challenge; the frames are dropped when this returns. */
    async enrolFromFrames(shopperId: string, token: string, frames: readonly { at: number; image: Uint8Array }[]): Promise<Shopper> {
      if (deps.enrolment === undefined) throw new DomainError('unavailable', 'enrolment_unavailable', 'Face enrolment is not available here.');
      const challenge = openChallenge(shopperId, token);
      // Used up before any frame is analysed, whatever the answer turns out to be; the count is made
      // after this answer is recorded, so racing requests all see each other.
      const limit = deps.enrolmentLimit ?? DEFAULT_ENROLMENT_LIMIT;
      const at = clock.now().getTime();
      if (!(await repo.useEnrolmentChallenge(challenge.id, shopperId, at, at - limit.windowMs)))
        throw new DomainError('conflict', 'challenge_used', 'This face check was already answered: start again.');
      if ((await repo.enrolmentAnswersSince(shopperId, at - limit.windowMs)) > limit.count)
        throw new DomainError('busy', 'enrolment_rate_limited', `At most ${limit.count} face enrolments in ${Math.round(limit.windowMs / 60_000)} minutes: try again later.`, {
          limit: limit.count,
          window_ms: limit.windowMs,
        });
      const result = await deps.enrolment.templatesFor(challenge, frames);
      if (!result.ok) throw new DomainError('unprocessable', result.code, result.message);
      return service.enrolFace(shopperId, result.templates);
    },

    /**
     * True when the shopper enrolled a face that terminals can no longer recognise: it was made by an
     * earlier face model, so they must enrol again to pay by face.
     */
    async faceNeedsEnrolmentAgain(shopper: Shopper): Promise<boolean> {
      return shopper.faceEnrolled && !(await faces.searchable(shopper.id));
    },

    /** Deletes the face for good: the gallery first, so that no search can find it once this returns. */
    async deleteFace(shopperId: string): Promise<Shopper> {
      await mustGet(shopperId);
      await faces.remove(shopperId);
      const now = clock.now().getTime();
      await repo.update(shopperId, { face_enrolled_at: null, face_pay_enabled: 0 });
      await repo.insertEvent(ids.next('sev'), shopperId, 'face.deleted', now);
      return toShopper(await mustGet(shopperId));
    },

    /** Withdrawing consent takes the face with it: there is no lawful reason left to keep it. */
    async withdrawFacePayConsent(shopperId: string): Promise<Shopper> {
      await mustGet(shopperId);
      await faces.remove(shopperId);
      const now = clock.now().getTime();
      await repo.withdrawConsents(shopperId, FACE_PAY_CONSENT.kind, now);
      await repo.update(shopperId, { face_enrolled_at: null, face_pay_enabled: 0 });
      await repo.insertEvent(ids.next('sev'), shopperId, 'consent.withdrawn', now);
      return toShopper(await mustGet(shopperId));
    },

    /**
     * `password`, with `facePayEnabled: true`, is the unlock after a lockout: a right one also
     * clears the wrong digits and PINs counted against the shopper, so they start again with the
     * full allowance. Without it face pay is switched on but the count stays, and one more wrong
     * factor within the day locks it again: a session alone (a borrowed, unlocked phone) must not
     * be able to buy fresh PIN guesses, five at a time, without end. The password already lets
     * its holder choose a new PIN, so clearing the count with it gives away nothing more.
     */
    async updateSettings(
      shopperId: string,
      patch: { name?: string; phone?: string | null; facePayEnabled?: boolean; alwaysAskDigits?: boolean; perPaymentLimit?: number | null; password?: string },
    ): Promise<Shopper> {
      const row = await mustGet(shopperId);
      const clearFailures = patch.facePayEnabled === true && patch.password !== undefined;
      if (patch.password !== undefined && patch.facePayEnabled !== true)
        throw new DomainError('invalid', 'password_unexpected', 'The password is only asked for when switching face pay on.');
      if (clearFailures && !(await verifyPassword(patch.password as string, row.password_hash)))
        throw new DomainError('forbidden', 'password_wrong', 'That is not your account password.');
      const next: Parameters<ShopperRepo['update']>[1] = {};
      if (patch.name !== undefined) {
        const name = patch.name.trim();
        if (name.length === 0 || name.length > 100) throw new DomainError('invalid', 'name_invalid', 'Enter your name (up to 100 characters).');
        next.name = name;
      }
      if (patch.phone !== undefined) next.phone = patch.phone === null ? null : normalisePhone(patch.phone);
      if (patch.facePayEnabled !== undefined) {
        if (patch.facePayEnabled && row.face_enrolled_at === null)
          throw new DomainError('conflict', 'face_not_enrolled', 'Enrol your face before switching face pay on.');
        next.face_pay_enabled = patch.facePayEnabled ? 1 : 0;
      }
      if (patch.alwaysAskDigits !== undefined) next.always_ask_digits = patch.alwaysAskDigits ? 1 : 0;
      if (patch.perPaymentLimit !== undefined) {
        const l = patch.perPaymentLimit;
        if (l !== null && (!Number.isSafeInteger(l) || l <= 0 || l > MAX_LIMIT))
          throw new DomainError('invalid', 'limit_invalid', 'The limit is a positive whole amount in minor units.');
        next.per_payment_limit = l;
      }
      await repo.update(shopperId, next);
      if (clearFailures) await deps.factorFailures?.clear(shopperId);
      const updated = await mustGet(shopperId);
      if (updated.face_enrolled_at !== null && (next.phone !== undefined || next.always_ask_digits !== undefined))
        await faces.updateProfile(shopperId, { phoneLast4: last4(updated.phone), alwaysAskDigits: updated.always_ask_digits === 1 });
      return toShopper(updated);
    },

    /**
     * Sets (or with null removes) the face-pay PIN, after the account password: a session alone
     * (a borrowed, unlocked phone) must not be enough to choose the factor that unlocks larger
     * face payments. Only its hash is stored; it is never logged or answered.
     */
    async setPin(shopperId: string, pin: string | null, password: string): Promise<Shopper> {
      const row = await mustGet(shopperId);
      if (pin !== null) checkPin(pin);
      if (!(await verifyPassword(password, row.password_hash))) throw new DomainError('forbidden', 'password_wrong', 'That is not your account password.');
      await repo.setPinHash(shopperId, pin === null ? null : await hashPassword(checkPin(pin), random, cost));
      return toShopper(await mustGet(shopperId));
    },

    /** Whether this is the shopper's face-pay PIN; false when none is set (after the same work, so the time tells nothing). */
    async verifyPin(shopperId: string, pin: string): Promise<boolean> {
      const row = await repo.byId(shopperId);
      const stored = row?.face_pay_pin_hash ?? null;
      const ok = await verifyPassword(pin, stored ?? (await dummyHash));
      return stored !== null && ok;
    },

    /**
     * Switches face pay off at once (the lockout, a "This wasn't me" dispute); the shopper
     * switches it on again in the portal. True only for the call that found it on.
     */
    async freezeFacePay(shopperId: string): Promise<boolean> {
      return repo.switchFacePayOff(shopperId);
    },

    /**
     * A one-time code to pay without the face (shown as a QR code or typed at the terminal).
     * Twelve digits living two minutes, used once, stored only as a hash.
     */
    async issuePayCode(shopperId: string): Promise<{ code: string; expiresAt: number }> {
      await mustGet(shopperId);
      let code = '';
      for (let i = 0; i < PAY_CODE_DIGITS; i++) code += String(random.int(10));
      const now = clock.now().getTime();
      await repo.insertPayCode(sha256(code), shopperId, now, now + payCodeTtl);
      return { code, expiresAt: now + payCodeTtl };
    },

    /** The shopper of a pay code still unused, without using it (the payment uses it, in its own transaction). */
    async payCodeShopper(code: string): Promise<string> {
      const clean = code.replace(/\s/g, '');
      const id = /^\d+$/.test(clean) ? await repo.payCodeShopper(sha256(clean), clock.now().getTime()) : undefined;
      if (id === undefined) throw payCodeInvalid();
      return id;
    },

    /** Uses the code inside `tx`, the payment's transaction: a crash before it commits leaves the code unused. */
    async usePayCode(tx: SqlExecutor, code: string, shopperId: string): Promise<void> {
      const clean = code.replace(/\s/g, '');
      const id = /^\d+$/.test(clean) ? await repo.consumePayCodeIn(tx, sha256(clean), clock.now().getTime()) : undefined;
      if (id !== shopperId) throw payCodeInvalid();
    },

    /** Whether this is the shopper's account password (for the rights that ask for it again: export, deletion). */
    async passwordMatches(shopperId: string, password: string): Promise<boolean> {
      const row = await mustGet(shopperId);
      return verifyPassword(password, row.password_hash);
    },

    /** Account deletion's first step (repeatable): no sign-in, session, pay code or face pay is left. */
    async closeAccount(shopperId: string): Promise<void> {
      await mustGet(shopperId);
      const now = clock.now().getTime();
      await repo.closeAccount(shopperId, now);
    },

    /** Account deletion's last step (repeatable): the personal fields are gone, the id stays as a pseudonym. */
    async erasePersonal(shopperId: string): Promise<void> {
      await mustGet(shopperId);
      const now = clock.now().getTime();
      await repo.erasePersonal(shopperId, now);
      await repo.insertEvent(ids.next('sev'), shopperId, 'account.deleted', now);
    },

    /** Open accounts whose face was enrolled before `before`: the retention rule looks at their last use. */
    retentionCandidates(before: number, limit = 500, after?: { at: number; id: string }): Promise<{ id: string; email: string; face_enrolled_at: number }[]> {
      return repo.enrolledBefore(before, limit, after);
    },

    /** The shopper's face, as the data export describes it (ids, model, dates; no template). */
    async faceFacts(shopperId: string): Promise<FaceTemplateFacts[]> {
      return (await faces.describe?.(shopperId)) ?? [];
    },

    events(shopperId: string): Promise<{ type: string; at: number }[]> {
      return repo.events(shopperId);
    },
  };
  return service;
}

export type ShopperService = ReturnType<typeof createShopperService>;
