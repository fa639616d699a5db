import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock, seededRandom, sequentialIds, type DomainError } from '../platform/index.ts';
import { describeEachDb } from '../storage/testing.ts';
import { createShopperService, FACE_PAY_CONSENT, maskName, type FaceTemplatePort } from './index.ts';
import { ShopperRepo } from './repo.ts';
import { shopperMigrations } from './migrations.ts';

/** A gallery stand-in that records what it was told; `models` is the model of each shopper's templates. */
function fakeFaces(currentModel = 'test-model') {
  const enrolled = new Map<string, { count: number; phoneLast4: string | null; alwaysAskDigits: boolean }>();
  const models = new Map<string, string>();
  const port: FaceTemplatePort = {
    async enrol(id, templates, profile) {
      enrolled.set(id, { count: templates.length, ...profile });
      models.set(id, templates[0]!.model.name);
    },
    async searchable(id) {
      return models.get(id) === currentModel;
    },
    async updateProfile(id, profile) {
      const e = enrolled.get(id);
      if (e) enrolled.set(id, { ...e, ...profile });
    },
    async remove(id) {
      enrolled.delete(id);
      models.delete(id);
    },
  };
  return { port, enrolled, models };
}

const cheap = { N: 1024, r: 8, p: 1 };
const model = { name: 'test-model', version: '1' };
const vec = () => new Float32Array([1, 0, 0]);

test('masked names show an initial and hide the rest', () => {
  assert.equal(maskName('Alice Wong'), 'A**** W.');
  assert.equal(maskName('Bo'), 'B*');
  assert.equal(maskName('Christopher Lee Smith'), 'C**** S.');
});

describeEachDb('shoppers', shopperMigrations, (getDb) => {
  const ids = sequentialIds();
  let seed = 1;
  const told: string[] = [];
  const setup = () => {
    const clock = new ManualClock('2026-11-25T10:00:00Z');
    const faces = fakeFaces();
    const service = createShopperService({
      onSignUpForExistingAccount: (id) => void told.push(id),
      repo: new ShopperRepo(getDb()),
      faces: faces.port,
      clock,
      ids,
      random: seededRandom(seed++),
      scryptCost: cheap,
    });
    return { clock, faces, service };
  };
  let n = 0;
  const email = () => `shopper${n++}@example.com`;

  test('register answers alike for new and known e-mails; the known account is untouched and its owner told', async () => {
    const { service } = setup();
    const e = email();
    const { shopper } = await service.signUp({ email: e, password: 'correct horse', name: 'Owner' });
    told.length = 0;
    assert.equal(await service.register({ email: e.toUpperCase(), password: 'attacker pass', name: 'Mallory' }), undefined);
    assert.deepEqual(told, [shopper.id]);
    await assert.rejects(service.logIn(e, 'attacker pass'), { code: 'invalid_credentials' });
    assert.equal((await service.logIn(e, 'correct horse')).shopper.name, 'Owner');
    const other = email();
    assert.equal(await service.register({ email: other, password: 'correct horse', name: 'Newcomer' }), undefined);
    assert.deepEqual(told, [shopper.id], 'a new e-mail tells nobody');
    assert.equal((await service.logIn(other, 'correct horse')).shopper.name, 'Newcomer');
    await assert.rejects(service.register({ email: 'nope', password: 'long enough pw', name: 'X' }), { code: 'email_invalid' });
  });

  test('sign up, log in, and a wrong password or unknown e-mail get the same error', async () => {
    const { service } = setup();
    const e = email();
    const { shopper, sessionToken } = await service.signUp({ email: e.toUpperCase(), password: 'correct horse', name: 'Alice Wong', phone: '+44 7700 900123' });
    assert.equal(shopper.email, e);
    assert.equal(shopper.phone, '+447700900123');
    assert.equal((await service.authenticate(sessionToken)).id, shopper.id);
    await assert.rejects(service.logIn(e, 'wrong password'), { code: 'invalid_credentials' });
    await assert.rejects(service.logIn('nobody@example.com', 'correct horse'), { code: 'invalid_credentials' });
    const again = await service.logIn(e, 'correct horse');
    assert.equal(again.shopper.id, shopper.id);
    await assert.rejects(service.signUp({ email: e, password: 'another one!', name: 'Al' }), { code: 'email_taken' });
  });

  test('bad sign-up input is refused with its own code', async () => {
    const { service } = setup();
    await assert.rejects(service.signUp({ email: 'nope', password: 'long enough pw', name: 'X' }), { code: 'email_invalid' });
    await assert.rejects(service.signUp({ email: email(), password: 'short', name: 'X' }), { code: 'password_too_short' });
    await assert.rejects(service.signUp({ email: email(), password: 'long enough pw', name: ' ' }), { code: 'name_invalid' });
    await assert.rejects(service.signUp({ email: email(), password: 'long enough pw', name: 'X', phone: '12ab' }), { code: 'phone_invalid' });
  });

  test('sessions expire and log-out ends them', async () => {
    const { service, clock } = setup();
    const e = email();
    const { sessionToken } = await service.signUp({ email: e, password: 'correct horse', name: 'Bob' });
    clock.advance(31 * 24 * 3600 * 1000);
    await assert.rejects(service.authenticate(sessionToken), { code: 'session_invalid' });
    const { sessionToken: fresh } = await service.logIn(e, 'correct horse');
    assert.equal((await service.authenticate(fresh)).email, e);
    await service.logOut(fresh);
    await assert.rejects(service.authenticate(fresh), { code: 'session_invalid' });
  });

  test('enrolment needs the current consent; deleting the face removes it from the gallery at once', async () => {
    const { service, faces } = setup();
    const { shopper } = await service.signUp({ email: email(), password: 'correct horse', name: 'Carol', phone: '0123456789' });
    await assert.rejects(service.enrolFace(shopper.id, [{ embedding: vec(), model }]), { code: 'consent_required' });
    await assert.rejects(service.acceptFacePayConsent(shopper.id, '1999-01-01'), { code: 'consent_version_outdated' });
    const consent = await service.acceptFacePayConsent(shopper.id, FACE_PAY_CONSENT.version);
    assert.equal(consent.text_version, FACE_PAY_CONSENT.version);
    const enrolled = await service.enrolFace(shopper.id, [{ embedding: vec(), model }, { embedding: vec(), model }, { embedding: vec(), model }]);
    assert.equal(enrolled.faceEnrolled, true);
    assert.equal(enrolled.facePayEnabled, true);
    assert.deepEqual(faces.enrolled.get(shopper.id), { count: 3, phoneLast4: '6789', alwaysAskDigits: false });

    await service.updateSettings(shopper.id, { alwaysAskDigits: true, phone: '5550001111' });
    assert.deepEqual(faces.enrolled.get(shopper.id), { count: 3, phoneLast4: '1111', alwaysAskDigits: true });

    const deleted = await service.deleteFace(shopper.id);
    assert.equal(faces.enrolled.has(shopper.id), false);
    assert.equal(deleted.faceEnrolled, false);
    assert.equal(deleted.facePayEnabled, false);
    await assert.rejects(service.updateSettings(shopper.id, { facePayEnabled: true }), { code: 'face_not_enrolled' });
    assert.deepEqual((await service.events(shopper.id)).map((e) => e.type), ['face.enrolled', 'face.deleted']);
  });

  test('a face enrolled with an earlier model asks to be enrolled again, until it is', async () => {
    const { service, faces } = setup();
    const { shopper } = await service.signUp({ email: email(), password: 'correct horse', name: 'Erin' });
    assert.equal(await service.faceNeedsEnrolmentAgain(shopper), false, 'nothing enrolled: nothing to redo');
    await service.acceptFacePayConsent(shopper.id, FACE_PAY_CONSENT.version);
    let s = await service.enrolFace(shopper.id, [{ embedding: vec(), model }]);
    assert.equal(await service.faceNeedsEnrolmentAgain(s), false);
    // The face model changed since: the stored templates are of the old one.
    faces.models.set(shopper.id, 'older-model');
    assert.equal(await service.faceNeedsEnrolmentAgain(s), true);
    s = await service.enrolFace(shopper.id, [{ embedding: vec(), model }]);
    assert.equal(await service.faceNeedsEnrolmentAgain(s), false);
    s = await service.deleteFace(shopper.id);
    assert.equal(await service.faceNeedsEnrolmentAgain(s), false, 'a deleted face is not a face to enrol again');
  });

  test('withdrawing consent deletes the face too', async () => {
    const { service, faces } = setup();
    const { shopper } = await service.signUp({ email: email(), password: 'correct horse', name: 'Dan' });
    await service.acceptFacePayConsent(shopper.id, FACE_PAY_CONSENT.version);
    await service.enrolFace(shopper.id, [{ embedding: vec(), model }]);
    await service.withdrawFacePayConsent(shopper.id);
    assert.equal(faces.enrolled.has(shopper.id), false);
    const consents = await service.consents(shopper.id);
    assert.equal(consents.length, 1);
    assert.notEqual(consents[0]?.withdrawn_at, null);
    await assert.rejects(service.enrolFace(shopper.id, [{ embedding: vec(), model }]), { code: 'consent_required' });
  });

  test('a pay code works once and not after it expires; a transaction that rolls back leaves it unused', async () => {
    const { service, clock } = setup();
    const db = getDb();
    const { shopper } = await service.signUp({ email: email(), password: 'correct horse', name: 'Eve' });
    const { code } = await service.issuePayCode(shopper.id);
    assert.match(code, /^\d{12}$/);
    assert.equal(await service.payCodeShopper(code), shopper.id);
    // The payment that used it died before committing: the code is still good.
    await assert.rejects(
      db.transaction(async (tx) => {
        await service.usePayCode(tx, code, shopper.id);
        throw new Error('crash before the payment commits');
      }),
      /crash/,
    );
    assert.equal(await service.payCodeShopper(code), shopper.id);
    await assert.rejects(db.transaction((tx) => service.usePayCode(tx, code, 'shp_someone_else')), { code: 'pay_code_invalid' });
    await db.transaction((tx) => service.usePayCode(tx, code, shopper.id));
    await assert.rejects(service.payCodeShopper(code), { code: 'pay_code_invalid' });
    await assert.rejects(db.transaction((tx) => service.usePayCode(tx, code, shopper.id)), { code: 'pay_code_invalid' });
    const late = await service.issuePayCode(shopper.id);
    clock.advance(3 * 60 * 1000);
    await assert.rejects(service.payCodeShopper(late.code), { code: 'pay_code_invalid' });
    await assert.rejects(service.payCodeShopper('not digits'), { code: 'pay_code_invalid' });
  });

  test('limits must be positive whole minor units', async () => {
    const { service } = setup();
    const { shopper } = await service.signUp({ email: email(), password: 'correct horse', name: 'Fay' });
    assert.equal((await service.updateSettings(shopper.id, { perPaymentLimit: 5000 })).perPaymentLimit, 5000);
    await assert.rejects(service.updateSettings(shopper.id, { perPaymentLimit: 12.5 }), { code: 'limit_invalid' });
    await assert.rejects(service.updateSettings(shopper.id, { perPaymentLimit: -1 }), { code: 'limit_invalid' });
    assert.equal((await service.updateSettings(shopper.id, { perPaymentLimit: null })).perPaymentLimit, null);
  });

  test('the face-pay PIN: set with the password, stored as a hash, checked, removed', async () => {
    const { service } = setup();
    const { shopper } = await service.signUp({ email: email(), password: 'correct horse', name: 'Pia' });
    assert.equal(shopper.hasPin, false);
    assert.equal(await service.verifyPin(shopper.id, '000000'), false, 'no PIN set: nothing matches');
    await assert.rejects(service.setPin(shopper.id, '482915', 'wrong horse'), { code: 'password_wrong' });
    await assert.rejects(service.setPin(shopper.id, '4829', 'correct horse'), { code: 'pin_invalid' });
    for (const simple of ['111111', '123456', '987654']) await assert.rejects(service.setPin(shopper.id, simple, 'correct horse'), { code: 'pin_too_simple' });
    const set = await service.setPin(shopper.id, '482915', 'correct horse');
    assert.equal(set.hasPin, true);
    assert.equal(JSON.stringify(set).includes('482915'), false);
    const row = await new ShopperRepo(getDb()).byId(shopper.id);
    assert.match(row!.face_pay_pin_hash!, /^scrypt\$/);
    assert.equal(await service.verifyPin(shopper.id, '482915'), true);
    assert.equal(await service.verifyPin(shopper.id, '482916'), false);
    assert.equal((await service.setPin(shopper.id, null, 'correct horse')).hasPin, false);
    assert.equal(await service.verifyPin(shopper.id, '482915'), false);
  });
});

describeEachDb('shopper enrolment from camera frames', shopperMigrations, (getDb) => {
  const ids = sequentialIds();
  const clock = new ManualClock('2026-11-25T10:00:00Z');
  const faces = fakeFaces();
  const seen: { kind: string; frames: number }[] = [];
  let answer: 'ok' | 'fail' = 'ok';
  let issued = 0;
  const random = seededRandom(99);
  const service = () =>
    createShopperService({
      repo: new ShopperRepo(getDb()),
      faces: faces.port,
      enrolment: {
        issueChallenge: () => ({ id: `chl_${++issued}`, kind: 'blink', issuedAt: clock.now().getTime(), expiresAt: clock.now().getTime() + 10_000 }),
        async templatesFor(challenge, frames) {
          seen.push({ kind: challenge.kind, frames: frames.length });
          return answer === 'ok'
            ? { ok: true, templates: frames.slice(0, 3).map(() => ({ embedding: vec(), model })) }
            : { ok: false, code: 'challenge_motion_missing', message: 'We did not see a blink.' };
        },
      },
      challengeSecret: Buffer.alloc(32, 7),
      clock,
      ids,
      random,
      scryptCost: cheap,
    });
  const frames = Array.from({ length: 6 }, (_, i) => ({ at: i, image: new Uint8Array([i]) }));

  test('a signed challenge comes back with frames and enrols three templates', async () => {
    const s = service();
    const { shopper } = await s.signUp({ email: 'enrol1@example.com', password: 'correct horse', name: 'Gus' });
    await assert.rejects(s.issueEnrolmentChallenge(shopper.id), { code: 'consent_required' });
    await s.acceptFacePayConsent(shopper.id, FACE_PAY_CONSENT.version);
    const c = await s.issueEnrolmentChallenge(shopper.id);
    assert.equal(c.kind, 'blink');
    const enrolled = await s.enrolFromFrames(shopper.id, c.token, frames);
    assert.equal(enrolled.faceEnrolled, true);
    assert.equal(faces.enrolled.get(shopper.id)?.count, 3);
    assert.deepEqual(seen.at(-1), { kind: 'blink', frames: 6 });
  });

  test('a forged, foreign or failed challenge enrols nothing', async () => {
    const s = service();
    const { shopper } = await s.signUp({ email: 'enrol2@example.com', password: 'correct horse', name: 'Hal' });
    const { shopper: other } = await s.signUp({ email: 'enrol3@example.com', password: 'correct horse', name: 'Ida' });
    await s.acceptFacePayConsent(shopper.id, FACE_PAY_CONSENT.version);
    await s.acceptFacePayConsent(other.id, FACE_PAY_CONSENT.version);
    const c = await s.issueEnrolmentChallenge(shopper.id);
    const [payload, mac] = c.token.split('.');
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), kind: 'turn_left' })).toString('base64url');
    await assert.rejects(s.enrolFromFrames(shopper.id, `${forged}.${mac}`, frames), { code: 'challenge_invalid' });
    await assert.rejects(s.enrolFromFrames(other.id, c.token, frames), { code: 'challenge_invalid' });
    await assert.rejects(s.enrolFromFrames(shopper.id, 'garbage', frames), { code: 'challenge_invalid' });
    answer = 'fail';
    await assert.rejects(s.enrolFromFrames(shopper.id, c.token, frames), { code: 'challenge_motion_missing' });
    answer = 'ok';
    assert.equal(faces.enrolled.has(shopper.id), false);
  });

  test('an enrolment challenge is answered once, even by racing requests, before any face work', async () => {
    const s = service();
    const { shopper } = await s.signUp({ email: 'enrol4@example.com', password: 'correct horse', name: 'Jo' });
    await s.acceptFacePayConsent(shopper.id, FACE_PAY_CONSENT.version);
    const c = await s.issueEnrolmentChallenge(shopper.id);
    const before = seen.length;
    const raced = await Promise.allSettled([s.enrolFromFrames(shopper.id, c.token, frames), s.enrolFromFrames(shopper.id, c.token, frames)]);
    assert.equal(raced.filter((r) => r.status === 'fulfilled').length, 1);
    assert.equal(((raced.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason as DomainError).code, 'challenge_used');
    await assert.rejects(s.enrolFromFrames(shopper.id, c.token, frames), { code: 'challenge_used', kind: 'conflict' });
    assert.equal(seen.length - before, 1);
  });

  test('enrolment is limited per shopper: the eleventh answer in an hour is refused busy, another shopper is not affected', async () => {
    const s = service();
    const { shopper } = await s.signUp({ email: 'enrol5@example.com', password: 'correct horse', name: 'Kit' });
    const { shopper: other } = await s.signUp({ email: 'enrol6@example.com', password: 'correct horse', name: 'Lou' });
    await s.acceptFacePayConsent(shopper.id, FACE_PAY_CONSENT.version);
    await s.acceptFacePayConsent(other.id, FACE_PAY_CONSENT.version);
    for (let i = 0; i < 10; i++) await s.enrolFromFrames(shopper.id, (await s.issueEnrolmentChallenge(shopper.id)).token, frames);
    const before = seen.length;
    await assert.rejects(s.enrolFromFrames(shopper.id, (await s.issueEnrolmentChallenge(shopper.id)).token, frames), {
      code: 'enrolment_rate_limited',
      kind: 'busy',
    });
    assert.equal(seen.length, before);
    await s.enrolFromFrames(other.id, (await s.issueEnrolmentChallenge(other.id)).token, frames);
    clock.advance(61 * 60 * 1000);
    await s.enrolFromFrames(shopper.id, (await s.issueEnrolmentChallenge(shopper.id)).token, frames);
  });
});
