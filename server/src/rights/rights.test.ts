/**
 * Shopper rights on the whole platform, on both databases: the data export (password again,
 * audited, every section, never a template), the account deletion (refused while money is still
 * the shopper's; a persisted workflow resumed after a crash in the middle of a step; the books
 * still balanced; merchants see a deleted member), the face gone from every gallery process, and
 * the retention rule under an injected clock.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { AttemptRepo } from '../facepay/index.ts';
import { masterKeyFromBytes } from '../gallery/crypto.ts';
import { Gallery } from '../gallery/index.ts';
import { near, randomUnit, syntheticCalibration } from '../gallery/testing.ts';
import { MEMBERSHIP_CONSENT } from '../members/index.ts';
import { ManualClock, seededRandom } from '../platform/index.ts';
import { rightsPorts } from '../rights-ports.ts';
import { ShopperRepo, type FaceTemplatePort } from '../shoppers/index.ts';
import { describeEachDialect } from '../storage/testing.ts';
import { testPlatform, type TestPlatform } from '../testing.ts';
import { createRightsService, RightsRepo, type RightsPorts } from './index.ts';

const PASSWORD = 'a long passphrase';
const DAY = 86_400_000;

describeEachDialect('shopper rights', (dialect) => {
  let p: TestPlatform;
  const clock = new ManualClock('2026-03-01T00:00:00Z');
  const mails: { to: string; subject: string; text: string }[] = [];
  let n = 0;

  before(async () => {
    p = await testPlatform(dialect, {
      env: { FACEPAY_TEMPLATE_RETENTION_DAYS: '365' },
      overrides: {
        clock,
        mailTransport: {
          send: async (m) => {
            mails.push(m);
          },
        },
      },
    });
    await p.services.members.setProgramme(p.merchantId, { name: 'Test Club', benefits: '5% off', fields: ['name', 'email'], currency: 'EUR', timeZone: 'UTC' });
  });
  after(async () => {
    await p.dispose();
  });

  async function signUp(name: string): Promise<{ id: string; email: string; cookie: string }> {
    const email = `${name.toLowerCase().replace(/\s+/g, '.')}.${n++}@example.com`;
    const up = await p.app.inject({ method: 'POST', url: '/v1/shopper/signup', payload: { email, password: PASSWORD, name } });
    assert.equal(up.statusCode, 202, up.body);
    const res = await p.app.inject({ method: 'POST', url: '/v1/shopper/login', payload: { email, password: PASSWORD } });
    assert.equal(res.statusCode, 200, res.body);
    const cookie = String(res.headers['set-cookie']).split(';')[0]!;
    const id = (await p.app.inject({ method: 'GET', url: '/v1/shopper/me', headers: { cookie } })).json().id as string;
    return { id, email, cookie };
  }

  /** A live payment from the shopper's wallet (what the terminal's checkout does once the shopper is identified). */
  async function pay(shopperId: string, amount: number): Promise<string> {
    const created = await p.app.inject({ method: 'POST', url: '/v1/payment_intents', headers: p.liveAuth, payload: { amount, currency: 'eur', store: p.storeId } });
    assert.equal(created.statusCode, 200, created.body);
    const pi = await p.services.payments.confirmWithShopper(created.json().id, shopperId, { merchantId: p.merchantId, mode: 'live' });
    return pi.id;
  }

  const post = (who: { cookie: string }, url: string, payload: unknown) => p.app.inject({ method: 'POST', url, headers: { cookie: who.cookie }, payload: payload as string });

  test('the export needs the password, is audited, and holds the account, membership, payments, refunds, wallet and top-ups', async () => {
    const ana = await signUp('Ana Lima');
    await p.services.payments.topUp(ana.id, 5_000, 'eur', `${ana.id}:seed`);
    const joined = await p.services.members.join({ merchantId: p.merchantId, shopperId: ana.id, fields: { name: 'Ana Lima' }, consentVersion: MEMBERSHIP_CONSENT.version, terminalId: null });
    const paid = await pay(ana.id, 1_200);
    await p.services.payments.createRefund(p.merchantId, { paymentIntentId: paid, amount: 200 }, { mode: 'live' });
    await p.services.fundingService!.requestTopUp(ana.id, 3_000, 'eur', `k-${ana.id}`);

    const wrong = await post(ana, '/v1/shopper/data_export', { password: 'not my password' });
    assert.equal(wrong.statusCode, 403);
    assert.equal(wrong.json().error.code, 'password_wrong');
    const missing = await post(ana, '/v1/shopper/data_export', {});
    assert.equal(missing.statusCode, 400);

    const res = await post(ana, '/v1/shopper/data_export', { password: PASSWORD });
    assert.equal(res.statusCode, 200, res.body);
    assert.match(String(res.headers['content-disposition']), /^attachment; filename="facepay-data-2026-03-01\.json"$/);
    const x = res.json();
    assert.equal(x.account.email, ana.email);
    assert.equal(x.account.name, 'Ana Lima');
    assert.equal(x.memberships.length, 1);
    assert.equal(x.memberships[0].member_id, joined.memberId);
    assert.deepEqual(x.memberships[0].shared_fields, { name: 'Ana Lima' });
    assert.equal(x.payments.length, 1);
    assert.equal(x.payments[0].id, paid);
    assert.equal(x.payments[0].refunded, 200);
    assert.deepEqual(x.refunds.map((r: { amount: number }) => r.amount), [200]);
    assert.deepEqual(x.wallets, [{ currency: 'eur', available: 5_000 - 1_200 + 200, pending: 0 }]);
    assert.equal(x.wallet_movements.length, 3);
    assert.deepEqual(x.top_ups.map((t: { status: string }) => t.status), ['pending']);
    assert.deepEqual(x.face.templates, []);
    const audit = await new RightsRepo(p.db).auditOf(ana.id);
    assert.deepEqual(audit.map((a) => a.action), ['export']);
  });

  test('deletion is refused while the wallet holds money or a dispute is open, then erases the person and keeps balanced books', async () => {
    const bea = await signUp('Bea Costa');
    await p.services.payments.topUp(bea.id, 2_000, 'eur', `${bea.id}:seed`);
    const joined = await p.services.members.join({ merchantId: p.merchantId, shopperId: bea.id, fields: { name: 'Bea Costa', email: 'bea@club.example' }, consentVersion: MEMBERSHIP_CONSENT.version, terminalId: null });
    await p.services.marketing.addNotice({ shopperId: bea.id, merchantId: p.merchantId, title: 'Hello', body: 'A message', at: clock.now().getTime() });
    const pending = await p.services.fundingService!.requestTopUp(bea.id, 1_000, 'eur', `k-${bea.id}`);
    const reference = await p.services.fundingService!.paymentReference(bea.id);

    const full = await post(bea, '/v1/shopper/account_deletion', { password: PASSWORD });
    assert.equal(full.statusCode, 409, full.body);
    assert.equal(full.json().error.code, 'wallet_not_empty');
    assert.deepEqual(full.json().error.details.balances, [{ currency: 'eur', amount: 2_000 }]);

    const paid = await pay(bea.id, 2_000);
    await p.services.disputes!.openByShopper(bea.id, paid, { reason: 'not me' });
    const disputed = await post(bea, '/v1/shopper/account_deletion', { password: PASSWORD });
    assert.equal(disputed.statusCode, 409);
    assert.equal(disputed.json().error.code, 'disputes_open');
    const d = (await p.services.disputes!.listForShopper(bea.id))[0]!;
    await p.services.disputes!.close(p.merchantId, d.id, { mode: 'live', note: 'paid in person' });

    assert.equal((await post(bea, '/v1/shopper/account_deletion', { password: 'wrong one' })).statusCode, 403);
    const terms = await p.app.inject({ method: 'GET', url: '/v1/shopper/account_deletion', headers: { cookie: bea.cookie } });
    assert.equal(terms.json().face_template_retention_days, 365);
    assert.match(terms.json().kept, /legal period/);

    const res = await post(bea, '/v1/shopper/account_deletion', { password: PASSWORD });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().status, 'done');
    assert.match(String(res.headers['set-cookie']), /fp_session=; Max-Age=0/);

    // The session, the sign-in and the person are gone; the id stays, pointing at nothing personal.
    assert.equal((await p.app.inject({ method: 'GET', url: '/v1/shopper/me', headers: { cookie: bea.cookie } })).statusCode, 401);
    assert.equal((await p.app.inject({ method: 'POST', url: '/v1/shopper/login', payload: { email: bea.email, password: PASSWORD } })).statusCode, 401);
    await assert.rejects(p.services.shoppers.setPassword(bea.id, 'a new long passphrase'), /No such shopper/, 'a reset link mailed before cannot revive it');
    const row = (await new ShopperRepo(p.db).byId(bea.id))!;
    assert.equal(row.email, `deleted+${bea.id}@deleted.invalid`);
    assert.equal(row.name, 'Deleted account');
    assert.equal(row.phone, null);
    assert.equal(row.face_enrolled_at, null);
    assert.ok(row.deleted_at);
    const rowText = JSON.stringify(row);
    assert.ok(!rowText.includes('Bea') && !rowText.includes(bea.email));

    // The merchant's CRM: a deleted member with no fields, and a member.deleted event for its webhooks.
    const member = await p.services.members.getMember(p.merchantId, joined.memberId);
    assert.equal(member.status, 'deleted');
    assert.deepEqual(member.fields, {});
    const events = await p.db.query<{ type: string; object_id: string }>("SELECT type, object_id FROM events WHERE type = 'member.deleted'");
    assert.deepEqual(events.map((e) => e.object_id), [joined.memberId]);
    assert.equal((await p.services.marketing.inbox(bea.id)).items.length, 0);

    // Money: the top-up that never arrived is canceled, the RF reference no longer credits anyone, the books balance.
    assert.equal((await p.services.fundingService!.getIntent(pending.id)).status, 'canceled');
    assert.equal(await p.services.fundingService!.shopperOfReference(reference), null);
    assert.deepEqual((await p.services.fundingService!.audit()).problems, []);
    const verify = await p.services.ledger.verify();
    assert.equal(verify.ok, true, JSON.stringify(verify));
    assert.equal((await p.services.ledger.listTransfers(`wallet:${bea.id}:eur`)).length, 2, 'the money records are kept under the pseudonymous id');

    // Asking again answers the finished deletion and changes nothing.
    const rights = p.services.rights!;
    assert.equal((await rights.requestDeletion(bea.id, 'anything')).status, 'done');
    assert.deepEqual((await rights.auditOf(bea.id)).map((a) => a.action).sort(), ['deletion_done', 'deletion_requested']);
  });

  test('a crash in the middle of a step leaves the deletion running; another process resumes it to the end, once', async () => {
    const cai = await signUp('Cai Wen');
    const joined = await p.services.members.join({ merchantId: p.merchantId, shopperId: cai.id, fields: { name: 'Cai Wen' }, consentVersion: MEMBERSHIP_CONSENT.version, terminalId: null });
    const real = rightsPorts({ ...p.services, fundingService: undefined, funding: p.services.fundingService!, faces: noFaces, attempts: new AttemptRepo(p.db), mail: p.mail } as never);
    // The memberships end (committed), then the process dies before the step is recorded as done.
    const crashing: RightsPorts = {
      ...real,
      members: {
        ...real.members,
        forget: async (id) => {
          await real.members.forget(id);
          throw new Error('process killed');
        },
      },
    };
    const first = createRightsService({ repo: new RightsRepo(p.db), ports: crashing, clock, ids: p.ids });
    await assert.rejects(first.requestDeletion(cai.id, PASSWORD), /process killed/);
    const stuck = await new RightsRepo(p.db).deletionOf(cai.id);
    assert.equal(stuck?.status, 'running');
    assert.equal(stuck?.step, 'memberships');
    assert.equal(stuck?.attempts, 1);
    assert.deepEqual(JSON.parse(stuck!.memberships!), [{ merchantId: p.merchantId, memberId: joined.memberId }]);
    assert.equal((await new ShopperRepo(p.db).byId(cai.id))!.name, 'Cai Wen', 'the personal step has not run yet');

    const second = createRightsService({ repo: new RightsRepo(p.db), ports: real, clock, ids: p.ids });
    assert.deepEqual(await second.resumeDeletions(), { resumed: 1, failed: 0 });
    assert.equal((await second.deletionOf(cai.id))?.status, 'done');
    assert.equal((await new ShopperRepo(p.db).byId(cai.id))!.name, 'Deleted account');
    assert.equal((await p.services.members.getMember(p.merchantId, joined.memberId)).status, 'deleted');
    const events = await p.db.query("SELECT 1 AS one FROM events WHERE type = 'member.deleted' AND object_id = $1", [joined.memberId]);
    assert.equal(events.length, 1, 'one member.deleted event, not one per attempt');
    assert.deepEqual(await second.resumeDeletions(), { resumed: 0, failed: 0 });
  });

  test('the face is deleted from every gallery process at once, and the export never holds a template', async () => {
    const random = seededRandom(11);
    const model = { name: 'test-model', version: '1' };
    let idn = 0;
    const gallery = (): Gallery =>
      new Gallery({
        db: p.db,
        masterKeys: { current: masterKeyFromBytes(Buffer.alloc(32, 3)), previous: [] },
        model,
        dim: 128,
        calibration: syntheticCalibration(),
        clock,
        ids: { next: (prefix) => `${prefix}_${dialect}_${String(++idn).padStart(6, '0')}` },
        random,
        progressOut: null,
        ann: { threads: 1 },
        exactScanRate: 10_000,
      });
    const a = gallery();
    const b = gallery();
    await a.start();
    await b.start();
    const dan = await signUp('Dan Okafor');
    const face = randomUnit(128, random);
    const templates = [0, 1, 2].map(() => near(face, 0.25, random));
    for (let i = 0; i < 30; i++) await a.enrol({ shopperId: `other_${dialect}_${i}`, embeddings: [{ model, vector: randomUnit(128, random) }], phoneLast4: null });
    await a.enrol({ shopperId: dan.id, embeddings: templates.map((vector) => ({ model, vector })), phoneLast4: null });
    await new ShopperRepo(p.db).update(dan.id, { face_enrolled_at: clock.now().getTime(), face_pay_enabled: 1 });
    const probe = { model, vector: near(face, 0.3, random) };
    const seen = await b.identify(probe);
    assert.equal(seen.outcome, 'match', 'the other process found the enrolment');

    const port: FaceTemplatePort = {
      enrol: async () => undefined,
      updateProfile: async () => undefined,
      remove: async (id) => {
        await a.deleteShopper(id);
      },
      searchable: (id) => a.searchable(id),
      describe: (id) => a.describeShopper(id),
    };
    const rights = createRightsService({
      repo: new RightsRepo(p.db),
      ports: rightsPorts({ ...p.services, funding: p.services.fundingService!, faces: port, attempts: new AttemptRepo(p.db), mail: p.mail } as never),
      clock,
      ids: p.ids,
    });
    const exported = await rights.exportData(dan.id, PASSWORD);
    const text = JSON.stringify(exported);
    const face_ = exported.face as { templates: { templateId: string; model: unknown; dimensions: number }[] };
    assert.equal(face_.templates.length, 3);
    assert.deepEqual(face_.templates[0]!.model, model);
    assert.ok(!/ciphertext|vector|embedding/i.test(text), 'no field that could carry a template');
    const stored = await p.db.query<{ ciphertext: Buffer }>('SELECT ciphertext FROM gallery_templates WHERE shopper_id = $1', [dan.id]);
    for (const r of stored) {
      assert.ok(!text.includes(Buffer.from(r.ciphertext).toString('base64').slice(0, 24)));
      assert.ok(!text.includes(Buffer.from(r.ciphertext).toString('hex').slice(0, 24)));
    }
    for (const v of templates) assert.ok(!text.includes(String(v[0]).slice(0, 8)), 'no template value in the export');

    assert.equal((await rights.requestDeletion(dan.id, PASSWORD)).status, 'done');
    assert.equal((await a.identify(probe)).outcome, 'no_match');
    assert.equal((await b.identify(probe)).outcome, 'no_match', 'the other process dropped the face too');
    assert.equal((await p.db.query('SELECT 1 AS one FROM gallery_templates WHERE shopper_id = $1', [dan.id])).length, 0);

    // The platform's own deletion, in a process running without the face engine (FACEPAY_FACE=0 here):
    // the rows still go, and the process that searches drops the face from the change feed.
    const ida = await signUp('Ida Berg');
    const idaFace = randomUnit(128, random);
    await a.enrol({ shopperId: ida.id, embeddings: [0, 1].map(() => ({ model, vector: near(idaFace, 0.25, random) })), phoneLast4: null });
    const idaProbe = { model, vector: near(idaFace, 0.3, random) };
    assert.equal((await b.identify(idaProbe)).outcome, 'match');
    const idaExport = await p.services.rights!.exportData(ida.id, PASSWORD);
    assert.equal((idaExport.face as { templates: unknown[] }).templates.length, 2);
    assert.equal((await post(ida, '/v1/shopper/account_deletion', { password: PASSWORD })).statusCode, 200);
    assert.equal((await p.db.query('SELECT 1 AS one FROM gallery_templates WHERE shopper_id = $1', [ida.id])).length, 0);
    assert.equal((await b.identify(idaProbe)).outcome, 'no_match', 'the searching process dropped it');


  });

  test('retention: a face unused for the configured time is announced 30 days before in the inbox and by mail, then deleted and announced again', async () => {
    const eve = await signUp('Eve Park');
    const fay = await signUp('Fay Ng');
    const t0 = clock.now().getTime();
    const shoppers = new ShopperRepo(p.db);
    await shoppers.update(eve.id, { face_enrolled_at: t0, face_pay_enabled: 1 });
    await shoppers.update(fay.id, { face_enrolled_at: t0, face_pay_enabled: 1 });
    const rights = p.services.rights!;
    // Fay pays by face 100 days later: her year starts again then.
    await new AttemptRepo(p.db).insert({
      id: `fpa_${dialect}_fay`, intent_id: 'pi_x', merchant_id: p.merchantId, store_id: p.storeId, terminal_id: 'term', method: 'face',
      challenge_id: null, challenge_kind: null, challenge_issued_at: null, challenge_expires_at: null, challenge_used_at: null, expires_at: t0,
      state: 'paid', outcome: 'succeeded', shopper_id: fay.id, digits_tries_left: 0, coupon_id: null, payment_id: `pay_${dialect}_fay`, created_at: t0 + 100 * DAY, updated_at: t0 + 100 * DAY,
    });
    mails.length = 0;

    clock.set(new Date(t0 + 334 * DAY));
    assert.deepEqual(await rights.runRetention(), { noticed: 0, deleted: 0 }, 'too early for a notice');
    clock.set(new Date(t0 + 335 * DAY));
    assert.deepEqual(await rights.runRetention(), { noticed: 1, deleted: 0 });
    assert.deepEqual(await rights.runRetention(), { noticed: 0, deleted: 0 }, 'told once');
    await p.mail.tick();
    const mine = (to: string) => mails.filter((m) => m.to === to);
    assert.equal(mine(eve.email).length, 1);
    assert.match(mine(eve.email)[0]!.subject, /will be deleted/);
    assert.match(mine(eve.email)[0]!.text, /deleted on 2027-03-01/);
    assert.equal(mine(fay.email).length, 0);
    assert.equal((await p.services.shoppers.get(eve.id)).faceEnrolled, true);
    // A year on, her session has expired: she signs in again to read her inbox.
    const inbox = async (who: { email: string }) => {
      const login = await p.app.inject({ method: 'POST', url: '/v1/shopper/login', payload: { email: who.email, password: PASSWORD } });
      const cookie = String(login.headers['set-cookie']).split(';')[0]!;
      const res = await p.app.inject({ method: 'GET', url: '/v1/shopper/inbox', headers: { cookie } });
      assert.equal(res.statusCode, 200, res.body);
      return res.json().data as { title: string; body: string; merchant_name: string; from_platform: boolean }[];
    };
    const told = await inbox(eve);
    assert.equal(told.length, 1, 'the notice is in her inbox too');
    assert.match(told[0]!.title, /will be deleted/);
    assert.match(told[0]!.body, /deleted on 2027-03-01/);
    assert.equal(told[0]!.merchant_name, 'Facepay');
    assert.equal(told[0]!.from_platform, true, 'from the platform, not a merchant she could mute');
    assert.equal((await inbox(fay)).length, 0);

    clock.set(new Date(t0 + 365 * DAY - 1));
    assert.deepEqual(await rights.runRetention(), { noticed: 0, deleted: 0 }, 'not a moment early');
    clock.set(new Date(t0 + 365 * DAY));
    assert.deepEqual(await rights.runRetention(), { noticed: 0, deleted: 1 });
    await p.mail.tick();
    assert.equal(mine(eve.email).length, 2);
    assert.match(mine(eve.email)[1]!.subject, /was deleted/);
    assert.match((await inbox(eve))[0]!.title, /was deleted/, 'the newest item says it was done');
    const after_ = await p.services.shoppers.get(eve.id);
    assert.equal(after_.faceEnrolled, false);
    assert.equal(after_.facePayEnabled, false);
    assert.equal((await p.services.shoppers.get(fay.id)).faceEnrolled, true, 'Fay paid by face since');
    assert.deepEqual((await rights.auditOf(eve.id)).map((a) => a.action).sort(), ['retention_deleted', 'retention_notice']);
    assert.deepEqual(await rights.runRetention(), { noticed: 0, deleted: 0 });

    // Fay's year ends 465 days after the enrolment; she is told 30 days before. A notice sent late
    // (the rule was off) still gives her the full 30 days.
    clock.set(new Date(t0 + 460 * DAY));
    assert.deepEqual(await rights.runRetention(), { noticed: 1, deleted: 0 });
    clock.set(new Date(t0 + 466 * DAY));
    assert.deepEqual(await rights.runRetention(), { noticed: 0, deleted: 0 });
    clock.set(new Date(t0 + 490 * DAY));
    assert.deepEqual(await rights.runRetention(), { noticed: 0, deleted: 1 });
    clock.set(new Date(t0));
  });
});

const noFaces: FaceTemplatePort = {
  enrol: async () => undefined,
  updateProfile: async () => undefined,
  remove: async () => undefined,
  searchable: async () => true,
};

test('retention days come from FACEPAY_TEMPLATE_RETENTION_DAYS, 1095 by default, and a bad value stops the start', async () => {
  const { loadConfig } = await import('../config/index.ts');
  assert.equal(loadConfig({}).templateRetentionDays, 1095);
  assert.equal(loadConfig({ FACEPAY_TEMPLATE_RETENTION_DAYS: '365' }).templateRetentionDays, 365);
  assert.throws(() => loadConfig({ FACEPAY_TEMPLATE_RETENTION_DAYS: '5' }), /FACEPAY_TEMPLATE_RETENTION_DAYS/);
});
