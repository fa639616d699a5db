/**
 * The shopper portal's API under /v1/shopper. The session is an HttpOnly, SameSite=Strict cookie:
 * the portal never handles the token, and another site cannot send it. Bodies are JSON only, which
 * a cross-site form cannot produce either.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, isDomainError } from '../../platform/index.ts';
import type { Shopper } from '../../shoppers/index.ts';
import { readCookie, setSessionCookie } from '../cookies.ts';
import { createLoginThrottle } from '../login-throttle.ts';
import { amountSchema, currencySchema } from '../schemas.ts';
import type { AppServices } from '../types.ts';
import { framesSchema, toFrames, type WireFrames } from './frames.ts';

const COOKIE = 'fp_session';
const SESSION_DAYS = 30;
const TAG = ['Shopper portal'];

function sessionToken(request: FastifyRequest): string | undefined {
  return readCookie(request, COOKIE);
}

function setSession(request: FastifyRequest, reply: FastifyReply, token: string | null): void {
  setSessionCookie(request, reply, COOKIE, token, SESSION_DAYS * 86400);
}

const signUpBody = {
  type: 'object',
  additionalProperties: false,
  required: ['email', 'password', 'name'],
  properties: {
    email: { type: 'string', minLength: 3, maxLength: 254 },
    password: { type: 'string', minLength: 1, maxLength: 1024 },
    name: { type: 'string', minLength: 1, maxLength: 100 },
    phone: { type: 'string', minLength: 1, maxLength: 32 },
  },
} as const;

const logInBody = {
  type: 'object',
  additionalProperties: false,
  required: ['email', 'password'],
  properties: { email: { type: 'string', minLength: 1, maxLength: 254 }, password: { type: 'string', minLength: 1, maxLength: 1024 } },
} as const;

const settingsBody = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 100 },
    phone: { type: ['string', 'null'], maxLength: 32 },
    face_pay_enabled: { type: 'boolean' },
    always_ask_digits: { type: 'boolean' },
    per_payment_limit: { anyOf: [amountSchema, { type: 'null' }] },
    /** With `face_pay_enabled: true`: the unlock after a lockout, which also clears the count of wrong digits and PINs. */
    password: { type: 'string', minLength: 1, maxLength: 1024 },
  },
} as const;

/** The signed-in shopper of a portal request (the fp_session cookie); 401 without one. */
export async function currentShopper(shoppers: AppServices['shoppers'], request: FastifyRequest): Promise<Shopper> {
  const token = sessionToken(request);
  if (token === undefined) throw new DomainError('unauthorized', 'session_missing', 'Please sign in.');
  return shoppers.authenticate(token);
}

export function registerShopperRoutes(app: FastifyInstance, services: AppServices): void {
  const { shoppers, payments, merchants } = services;
  const currency = services.walletCurrency;
  const current = (request: FastifyRequest): Promise<Shopper> => currentShopper(shoppers, request);
  const throttle = createLoginThrottle(services.clock);
  // A password checked anywhere but sign-in is guessed against like one at sign-in: the same
  // throttle counts it (it counts refusals of kind unauthorized, so a wrong password is carried as
  // one through it and answered as the route's own 403 after).
  const wrongPassword = (e: unknown): boolean => isDomainError(e) && (e.code === 'password_wrong' || e.code === 'invalid_credentials');
  const withPassword = <T>(email: string, ip: string, action: () => Promise<T>): Promise<T> =>
    throttle
      .guard(email, ip, () =>
        action().catch((e: unknown) => {
          throw wrongPassword(e) ? new DomainError('unauthorized', 'invalid_credentials', 'That is not your account password.') : e;
        }),
      )
      .catch((e: unknown) => {
        throw wrongPassword(e) ? new DomainError('forbidden', 'password_wrong', 'That is not your account password.') : e;
      });

  async function meBody(s: Shopper): Promise<Record<string, unknown>> {
    return {
      id: s.id,
      object: 'shopper',
      email: s.email,
      name: s.name,
      phone: s.phone,
      face_pay_enabled: s.facePayEnabled,
      always_ask_digits: s.alwaysAskDigits,
      per_payment_limit: s.perPaymentLimit,
      face_enrolled: s.faceEnrolled,
      has_face_pay_pin: s.hasPin,
      face_enrol_again: await shoppers.faceNeedsEnrolmentAgain(s),
      wallet: { balance: await payments.walletBalance(s.id, currency), currency },
    };
  }

  const SIGNUP_ANSWER = {
    object: 'signup',
    status: 'received',
    message: 'If this e-mail address is new to us, your account is ready: sign in with it and your password. If it already has an account, its owner has been told.',
  };
  app.post('/v1/shopper/signup', {
    schema: {
      tags: TAG,
      summary: 'Create a shopper account; then sign in with POST /v1/shopper/login',
      description:
        'The answer is the same (202) whether or not the e-mail already has an account, so that sign-up does not tell who is a customer; ' +
        'the owner of an existing account is told instead. A new account can sign in at once with its password.',
      body: signUpBody,
    },
    handler: async (request, reply) => {
      const b = request.body as { email: string; password: string; name: string; phone?: string };
      await shoppers.register(b);
      return reply.code(202).send(SIGNUP_ANSWER);
    },
  });

  app.post('/v1/shopper/login', {
    schema: { tags: TAG, summary: 'Sign in', body: logInBody },
    handler: async (request, reply) => {
      const b = request.body as { email: string; password: string };
      const { shopper, sessionToken: token } = await throttle.guard(b.email, request.ip, () => shoppers.logIn(b.email, b.password));
      setSession(request, reply, token);
      return meBody(shopper);
    },
  });

  app.post('/v1/shopper/logout', {
    schema: { tags: TAG, summary: 'Sign out' },
    handler: async (request, reply) => {
      const token = sessionToken(request);
      if (token !== undefined) await shoppers.logOut(token);
      setSession(request, reply, null);
      return { ok: true };
    },
  });

  app.post('/v1/shopper/password', {
    schema: {
      tags: TAG,
      summary: 'Change the password (the current one first); other sessions end',
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['current_password', 'new_password'],
        properties: { current_password: { type: 'string', minLength: 1, maxLength: 1024 }, new_password: { type: 'string', minLength: 1, maxLength: 1024 } },
      },
    },
    handler: async (request, reply) => {
      const s = await current(request);
      const b = request.body as { current_password: string; new_password: string };
      shoppers.checkPassword(b.new_password);
      await throttle.guard(s.email, request.ip, () => shoppers.logIn(s.email, b.current_password)).catch((e: unknown) => {
        throw isDomainError(e) && e.code === 'invalid_credentials' ? new DomainError('forbidden', 'current_password_wrong', 'The current password is not right.') : e;
      });
      await shoppers.setPassword(s.id, b.new_password);
      const { sessionToken: token } = await shoppers.logIn(s.email, b.new_password);
      setSession(request, reply, token);
      return { status: 'password_changed' };
    },
  });

  app.get('/v1/shopper/me', {
    schema: { tags: TAG, summary: 'The signed-in shopper, with the wallet balance' },
    handler: async (request) => meBody(await current(request)),
  });

  app.patch('/v1/shopper/me', {
    schema: { tags: TAG, summary: 'Change settings: name, phone, face pay on or off, limit, always ask for the digits', body: settingsBody },
    handler: async (request) => {
      const s = await current(request);
      const b = request.body as {
        name?: string;
        phone?: string | null;
        face_pay_enabled?: boolean;
        always_ask_digits?: boolean;
        per_payment_limit?: number | null;
        password?: string;
      };
      const update = () =>
        shoppers.updateSettings(s.id, {
          ...(b.name !== undefined ? { name: b.name } : {}),
          ...(b.phone !== undefined ? { phone: b.phone } : {}),
          ...(b.face_pay_enabled !== undefined ? { facePayEnabled: b.face_pay_enabled } : {}),
          ...(b.always_ask_digits !== undefined ? { alwaysAskDigits: b.always_ask_digits } : {}),
          ...(b.per_payment_limit !== undefined ? { perPaymentLimit: b.per_payment_limit } : {}),
          ...(b.password !== undefined ? { password: b.password } : {}),
        });
      if (b.password === undefined) return meBody(await update());
      return meBody(await withPassword(s.email, request.ip, update));
    },
  });

  app.put('/v1/shopper/face_pay_pin', {
    schema: {
      tags: TAG,
      summary: 'Set the 6-digit face-pay PIN the terminal asks for above the face-alone limit (needs the account password)',
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['pin', 'password'],
        properties: { pin: { type: 'string', minLength: 1, maxLength: 16 }, password: { type: 'string', minLength: 1, maxLength: 1024 } },
      },
    },
    handler: async (request) => {
      const s = await current(request);
      const b = request.body as { pin: string; password: string };
      return meBody(await withPassword(s.email, request.ip, () => shoppers.setPin(s.id, b.pin, b.password)));
    },
  });

  app.delete('/v1/shopper/face_pay_pin', {
    schema: {
      tags: TAG,
      summary: 'Remove the face-pay PIN (payments that need it then go another way)',
      body: { type: 'object', additionalProperties: false, required: ['password'], properties: { password: { type: 'string', minLength: 1, maxLength: 1024 } } },
    },
    handler: async (request) => {
      const s = await current(request);
      const password = (request.body as { password: string }).password;
      return meBody(await withPassword(s.email, request.ip, () => shoppers.setPin(s.id, null, password)));
    },
  });

  async function consentBody(shopperId: string): Promise<Record<string, unknown>> {
    const rows = await shoppers.consents(shopperId);
    const active = rows.find((r) => r.kind === shoppers.consentText.kind && r.withdrawn_at === null && r.text_version === shoppers.consentText.version);
    return { version: shoppers.consentText.version, text: shoppers.consentText.text, accepted: active !== undefined, accepted_at: active?.accepted_at ?? null };
  }

  app.get('/v1/shopper/consent', {
    schema: { tags: TAG, summary: 'The face-payment consent text and whether it is accepted' },
    handler: async (request) => consentBody((await current(request)).id),
  });

  app.post('/v1/shopper/consent', {
    schema: {
      tags: TAG,
      summary: 'Accept the face-payment consent (the version read)',
      body: { type: 'object', additionalProperties: false, required: ['version'], properties: { version: { type: 'string', maxLength: 40 } } },
    },
    handler: async (request) => {
      const s = await current(request);
      await shoppers.acceptFacePayConsent(s.id, (request.body as { version: string }).version);
      return consentBody(s.id);
    },
  });

  app.delete('/v1/shopper/consent', {
    schema: { tags: TAG, summary: 'Withdraw the consent: the face is deleted at once' },
    handler: async (request) => meBody(await shoppers.withdrawFacePayConsent((await current(request)).id)),
  });

  app.post('/v1/shopper/face/challenges', {
    schema: { tags: TAG, summary: 'A liveness challenge for enrolment (turn the head or blink)' },
    handler: async (request) => {
      const c = await shoppers.issueEnrolmentChallenge((await current(request)).id);
      return { challenge_id: c.token, kind: c.kind, expires_at: c.expiresAt };
    },
  });

  app.post('/v1/shopper/face', {
    bodyLimit: 8 * 1024 * 1024,
    schema: {
      tags: TAG,
      summary: 'Enrol the face from the frames that answered the challenge (frames are never stored)',
      body: { type: 'object', additionalProperties: false, required: ['challenge_id', 'frames', 'sent_at'], properties: { challenge_id: { type: 'string', maxLength: 2000 }, ...framesSchema } },
    },
    handler: async (request) => {
      const s = await current(request);
      const b = request.body as { challenge_id: string } & WireFrames;
      return meBody(await shoppers.enrolFromFrames(s.id, b.challenge_id, toFrames(b, services.clock.now().getTime())));
    },
  });

  app.delete('/v1/shopper/face', {
    schema: { tags: TAG, summary: 'Delete the face for good, at once' },
    handler: async (request) => meBody(await shoppers.deleteFace((await current(request)).id)),
  });

  app.post('/v1/shopper/topups', {
    schema: {
      tags: TAG,
      summary: 'Top up the wallet (Idempotency-Key makes a retry fund once)',
      body: { type: 'object', additionalProperties: false, required: ['amount', 'currency'], properties: { amount: amountSchema, currency: currencySchema } },
    },
    handler: async (request) => {
      const s = await current(request);
      const b = request.body as { amount: number; currency: string };
      if (b.currency.toLowerCase() !== currency) throw new DomainError('invalid', 'currency_unsupported', `Wallets are in ${currency}.`);
      const key = request.headers['idempotency-key'];
      if (typeof key !== 'string' || !/^[\x21-\x7e]{8,255}$/.test(key))
        throw new DomainError('invalid', 'idempotency_key_required', 'Send an Idempotency-Key header (8 to 255 characters) with every top-up.');
      // Without the funding service there is no rail to wait for; crediting straight from the
      // top-up account would make money from nothing, so the route says it is off instead.
      if (!services.fundingService) throw new DomainError('unavailable', 'top_ups_unavailable', 'Top-ups are not available on this server.');
      const i = await services.fundingService.requestTopUp(s.id, b.amount, currency, key);
      // In live mode the wallet has not grown yet: the shopper sees the pending top-up and the bank reference to pay it with.
      return {
        ...(await meBody(s)),
        top_up: { id: i.id, object: 'funding_intent', amount: i.amount, currency: i.currency, status: i.status },
        payment_reference: await services.fundingService.paymentReference(s.id),
      };
    },
  });

  app.get('/v1/shopper/payments', {
    schema: { tags: TAG, summary: 'Every payment of the signed-in shopper, newest first' },
    handler: async (request) => {
      const s = await current(request);
      const page = await payments.listForShopper(s.id, { limit: 100 });
      // Why face pay went as it did (face alone, digits, PIN): the risk engine's codes, never a score or an image.
      const decisions = await services.facePay.decisionsFor(page.data.map((pi) => pi.id));
      // Names, not ids: a shopper knows shops by name. Looked up once per merchant and store.
      const names = new Map<string, Promise<string>>();
      const name = (key: string, load: () => Promise<string>): Promise<string> => {
        let n = names.get(key);
        if (n === undefined) names.set(key, (n = load().catch(() => '')));
        return n;
      };
      const data = await Promise.all(
        page.data.map(async (pi) => ({
          id: pi.id,
          merchant_name: await name(pi.merchantId, async () => (await merchants.getMerchant(pi.merchantId)).name),
          store_name: (await name(`${pi.merchantId}/${pi.storeId}`, async () => (await merchants.getStore(pi.merchantId, pi.storeId)).name)) || null,
          amount: pi.amount,
          discount: pi.discount,
          refunded: pi.amountRefunded,
          currency: pi.currency,
          // What the payment recorded, never a guess: null for one made where no method was kept.
          method: pi.paymentMethod,
          face_decision: decisions.get(pi.id) ?? null,
          status: pi.status,
          created_at: pi.createdAt,
        })),
      );
      return { object: 'list', data, has_more: page.hasMore };
    },
  });

  app.post('/v1/shopper/pay_codes', {
    schema: { tags: TAG, summary: 'A one-time code to pay without the face (two minutes, once)' },
    handler: async (request) => {
      const c = await shoppers.issuePayCode((await current(request)).id);
      return { code: c.code, expires_at: c.expiresAt };
    },
  });
}
