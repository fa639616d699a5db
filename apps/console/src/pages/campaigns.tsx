import { useEffect, useState } from 'preact/hooks';
import { parseMoney } from '@facepay/web-common';
import { call, newActionKey, type Audience, type Campaign, type CampaignResults, type List, type Reward } from '../api.ts';
import { UpliftChart } from '../charts.tsx';
import { go, type Session } from '../session.ts';
import { Alert, Badge, Field, Loading, message, money, percent, Select, Stat, useLoad, when } from '../ui.tsx';
import { segments } from './members.tsx';
import { t } from '../messages.ts';

export function CampaignsPage({ session, id }: { session: Session; id: string | undefined }) {
  if (id === 'new' && session.can('marketing:write')) return <NewCampaign session={session} />;
  if (id) return <CampaignDetail session={session} id={id} />;
  return <CampaignList session={session} />;
}

function describeReward(r: Reward, currency: string): string {
  switch (r.kind) {
    case 'amount_off':
      return r.min_spend ? t('camp.rewardAmountOffFrom', { amount: money(r.amount, currency), min: money(r.min_spend, currency) }) : t('camp.rewardAmountOff', { amount: money(r.amount, currency) });
    case 'percent_off':
      return r.cap ? t('camp.rewardPercentOffCap', { percent: r.percent, cap: money(r.cap, currency) }) : t('camp.rewardPercentOff', { percent: r.percent });
    case 'spend_save':
      return t('camp.rewardSpendSave', { threshold: money(r.threshold, currency), amount: money(r.amount, currency) });
    default:
      return r.label;
  }
}

function describeAudience(a: Audience): string {
  switch (a.kind) {
    case 'all':
      return t('camp.audEvery');
    case 'new':
      return t('camp.audNew', { days: a.days ?? 30 });
    case 'segment':
      return t('camp.audSegment', { segment: segments().find(([s]) => s === a.segment)?.[1] ?? a.segment.replace('_', ' ') });
    case 'birthday_month':
      return t('camp.audBirthday');
    case 'lapsed':
      return t('camp.audLapsed', { days: a.days });
    default:
      return t('camp.audTag', { tag: a.tag });
  }
}

function CampaignList({ session }: { session: Session }) {
  const list = useLoad(() => call<List<Campaign>>('GET', '/v1/campaigns'));
  return (
    <>
      <h1>{t('camp.campaigns')}</h1>
      {session.can('marketing:write') && (
        <p>
          <a class="button primary" href="#/campaigns/new">
            {t('camp.newCampaign')}
          </a>
        </p>
      )}
      <Loading error={list.error}>
        {list.data &&
          (list.data.data.length === 0 ? (
            <p>{t('camp.noCampaignsYet')}</p>
          ) : (
            <table>
              <caption class="sr-only">{t('camp.campaigns')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('camp.campaign')}</th>
                  <th scope="col">{t('camp.status')}</th>
                  <th scope="col">{t('camp.audience')}</th>
                  <th scope="col">{t('camp.reward')}</th>
                  <th scope="col">{t('camp.coupons')}</th>
                  <th scope="col">{t('camp.ends')}</th>
                </tr>
              </thead>
              <tbody>
                {list.data.data.map((c) => (
                  <tr key={c.id}>
                    <td>
                      <a href={`#/campaigns/${encodeURIComponent(c.id)}`}>{c.name}</a>
                    </td>
                    <td>
                      <Badge text={c.status} />
                    </td>
                    <td>{describeAudience(c.audience)}</td>
                    <td>{describeReward(c.reward, c.currency)}</td>
                    <td class="num">{c.issued_count}</td>
                    <td>{when(c.valid_to)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ))}
      </Loading>
    </>
  );
}

const AUDIENCES = () =>
  [
    ['all', t('camp.optEvery')],
    ['new', t('camp.optNew')],
    ['segment', t('camp.optSegment')],
    ['lapsed', t('camp.optLapsed')],
    ['birthday_month', t('camp.optBirthday')],
    ['tag', t('camp.optTag')],
  ] as const;

const REWARDS = () =>
  [
    ['amount_off', t('camp.optAmountOff')],
    ['percent_off', t('camp.optPercentOff')],
    ['spend_save', t('camp.optSpendSave')],
    ['free_item', t('camp.optFreeItem')],
  ] as const;

const TRIGGERS = () =>
  [
    ['manual', t('camp.optManual')],
    ['join', t('camp.optJoin')],
    ['payment', t('camp.optPayment')],
    ['schedule', t('camp.optSchedule')],
  ] as const;

function dateInput(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function NewCampaign({ session }: { session: Session }) {
  const currency = session.currency ?? 'EUR';
  const [f, setF] = useState({
    name: '',
    trigger: 'manual',
    audience: 'all',
    segment: 'at_risk',
    days: '30',
    tag: '',
    reward: 'amount_off',
    amount: '',
    percent: '10',
    cap: '',
    threshold: '',
    min_spend: '',
    item_code: '',
    item_label: '',
    valid_to: dateInput(Date.now() + 30 * 86400_000),
    coupon_days: '',
    max_discount: '',
    max_coupons: '',
    holdout: '10',
    message_title: '',
    message_body: '',
  });
  const [count, setCount] = useState<number | null>(null);
  const [error, setError] = useState('');
  const set = (k: keyof typeof f) => (v: string) => setF({ ...f, [k]: v });

  const audience = (): Audience => {
    switch (f.audience) {
      case 'new':
        return { kind: 'new', days: Number(f.days) || 30 };
      case 'segment':
        return { kind: 'segment', segment: f.segment };
      case 'lapsed':
        return { kind: 'lapsed', days: Number(f.days) || 60 };
      case 'birthday_month':
        return { kind: 'birthday_month' };
      case 'tag':
        return { kind: 'tag', tag: f.tag.trim() };
      default:
        return { kind: 'all' };
    }
  };

  // The audience count follows the choice as it is made, so the merchant sees whom it will reach.
  useEffect(() => {
    const a = audience();
    if (a.kind === 'tag' && !a.tag) return setCount(null);
    let live = true;
    const timer = setTimeout(() => {
      call<{ count: number }>('POST', '/v1/audiences/preview', { audience: a }).then(
        (r) => live && setCount(r.count),
        (e: unknown) => live && setError(message(e)),
      );
    }, 250);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [f.audience, f.segment, f.days, f.tag]);

  const minor = (text: string, what: 'camp.whatMinSpend' | 'camp.whatAmountOff' | 'camp.whatCap' | 'camp.whatThreshold' | 'camp.whatSaving' | 'camp.whatBudget', optional = false): number | undefined => {
    if (optional && text.trim() === '') return undefined;
    const v = parseMoney(text, currency);
    if (v === undefined) throw new Error(t('camp.enterAmount', { what: t(what) }));
    return v;
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    setError('');
    try {
      let reward: Reward;
      const minSpend = minor(f.min_spend, 'camp.whatMinSpend', true);
      if (f.reward === 'amount_off') reward = { kind: 'amount_off', amount: minor(f.amount, 'camp.whatAmountOff')!, ...(minSpend ? { min_spend: minSpend } : {}) };
      else if (f.reward === 'percent_off') reward = { kind: 'percent_off', percent: Number(f.percent), cap: minor(f.cap, 'camp.whatCap', true) ?? null, ...(minSpend ? { min_spend: minSpend } : {}) };
      else if (f.reward === 'spend_save') reward = { kind: 'spend_save', threshold: minor(f.threshold, 'camp.whatThreshold')!, amount: minor(f.amount, 'camp.whatSaving')! };
      else reward = { kind: 'free_item', code: f.item_code.trim(), label: f.item_label.trim() };
      const validTo = Date.parse(`${f.valid_to}T23:59:59Z`);
      if (Number.isNaN(validTo)) throw new Error(t('camp.chooseLastDay'));
      const maxDiscount = minor(f.max_discount, 'camp.whatBudget', true);
      const c = await call<Campaign>('POST', '/v1/campaigns', {
        name: f.name,
        trigger: f.trigger,
        audience: audience(),
        reward,
        currency,
        valid_to: validTo,
        ...(f.coupon_days ? { coupon_days: Number(f.coupon_days) } : {}),
        budget: { max_discount: maxDiscount ?? null, max_coupons: f.max_coupons ? Number(f.max_coupons) : null },
        holdout_percent: Number(f.holdout),
        ...(f.message_title ? { message: { title: f.message_title, body: f.message_body } } : {}),
      });
      go(`campaigns/${c.id}`);
    } catch (err) {
      setError(err instanceof Error && !('code' in err) ? err.message : message(err, currency));
    }
  };

  return (
    <>
      <p>
        <a href="#/campaigns">{t('camp.campaigns2')}</a>
      </p>
      <h1>{t('camp.newCampaign')}</h1>
      <form onSubmit={submit} class="stack">
        <Field id="campaign-name" label={t('camp.name')} value={f.name} onInput={set('name')} required />
        <Select id="campaign-trigger" label={t('camp.whenItGivesThe')} value={f.trigger} onChange={set('trigger')} options={TRIGGERS()} />
        <fieldset>
          <legend>{t('camp.audience')}</legend>
          <Select id="campaign-audience" label={t('camp.who')} value={f.audience} onChange={set('audience')} options={AUDIENCES()} />
          {f.audience === 'segment' && <Select id="campaign-segment" label={t('camp.segment')} value={f.segment} onChange={set('segment')} options={segments()} />}
          {(f.audience === 'new' || f.audience === 'lapsed') && (
            <Field id="campaign-days" label={f.audience === 'new' ? t('camp.joinedWithin') : t('camp.noVisitFor')} type="number" min="1" value={f.days} onInput={set('days')} />
          )}
          {f.audience === 'tag' && <Field id="campaign-tag" label={t('camp.tag')} value={f.tag} onInput={set('tag')} />}
          <p class="preview" role="status" aria-live="polite" data-testid="audience-count">
            {count === null ? t('camp.counting') : t('camp.inAudienceNow', { n: count })}
          </p>
        </fieldset>
        <fieldset>
          <legend>{t('camp.reward')}</legend>
          <Select id="campaign-reward" label={t('camp.kind')} value={f.reward} onChange={set('reward')} options={REWARDS()} />
          {f.reward === 'amount_off' && <Field id="campaign-amount" label={t('camp.amountOffIn', { currency })} value={f.amount} onInput={set('amount')} required />}
          {f.reward === 'percent_off' && (
            <>
              <Field id="campaign-percent" label={t('camp.percentOff')} type="number" min="1" max="100" value={f.percent} onInput={set('percent')} required />
              <Field id="campaign-cap" label={t('camp.atMostIn', { currency })} value={f.cap} onInput={set('cap')} />
            </>
          )}
          {f.reward === 'spend_save' && (
            <>
              <Field id="campaign-threshold" label={t('camp.spendAtLeastIn', { currency })} value={f.threshold} onInput={set('threshold')} required />
              <Field id="campaign-amount" label={t('camp.saveIn', { currency })} value={f.amount} onInput={set('amount')} required />
            </>
          )}
          {f.reward === 'free_item' && (
            <>
              <Field id="campaign-item-label" label={t('camp.itemEGA')} value={f.item_label} onInput={set('item_label')} required />
              <Field id="campaign-item-code" label={t('camp.codeForTheTill')} value={f.item_code} onInput={set('item_code')} required />
            </>
          )}
          {(f.reward === 'amount_off' || f.reward === 'percent_off') && (
            <Field id="campaign-min-spend" label={t('camp.minBasketIn', { currency })} value={f.min_spend} onInput={set('min_spend')} />
          )}
        </fieldset>
        <fieldset>
          <legend>{t('camp.validityAndBudget')}</legend>
          <Field id="campaign-valid-to" label={t('camp.lastDay')} type="date" value={f.valid_to} onInput={set('valid_to')} required />
          <Field id="campaign-coupon-days" label={t('camp.eachCouponLastsDays')} type="number" min="1" value={f.coupon_days} onInput={set('coupon_days')} hint={t('camp.emptyUntilTheCampaign')} />
          <Field id="campaign-max-discount" label={t('camp.budgetDiscountIn', { currency })} value={f.max_discount} onInput={set('max_discount')} />
          <Field id="campaign-max-coupons" label={t('camp.budgetCouponsAtMost')} type="number" min="1" value={f.max_coupons} onInput={set('max_coupons')} />
          <Field
            id="campaign-holdout"
            label={t('camp.holdout')}
            type="number"
            min="0"
            max="50"
            value={f.holdout}
            onInput={set('holdout')}
            hint={t('camp.aRandomShareOf')}
          />
        </fieldset>
        <fieldset>
          <legend>{t('camp.messageLegend')}</legend>
          <Field id="campaign-message-title" label={t('camp.title')} value={f.message_title} onInput={set('message_title')} />
          <Field id="campaign-message-body" label={t('camp.text')} value={f.message_body} onInput={set('message_body')} />
        </fieldset>
        <Alert text={error} />
        <p>
          <button type="submit" class="primary">
            {t('camp.createCampaign')}
          </button>
        </p>
      </form>
    </>
  );
}

function CampaignDetail({ session, id }: { session: Session; id: string }) {
  const c = useLoad(() => call<Campaign>('GET', `/v1/campaigns/${encodeURIComponent(id)}`), [id]);
  const results = useLoad(() => call<CampaignResults>('GET', `/v1/campaigns/${encodeURIComponent(id)}/results`), [id]);
  const [error, setError] = useState('');
  const [note, setNote] = useState('');
  // Sending reaches many people at once: it is asked for with the audience counted now, and one
  // key per intended send, so a double click or a retry sends once.
  const [sending, setSending] = useState<{ members: number; key: string } | null>(null);
  const askSend = async (campaign: Campaign) => {
    setError('');
    setNote('');
    try {
      const r = await call<{ count: number }>('POST', '/v1/audiences/preview', { audience: campaign.audience });
      setSending({ members: r.count, key: newActionKey() });
    } catch (err) {
      setError(message(err));
    }
  };
  const act = async (path: string, body: unknown, done: (r: Record<string, unknown>) => string, key?: string) => {
    setError('');
    setNote('');
    try {
      const r = await call<Record<string, unknown>>('POST', `/v1/campaigns/${encodeURIComponent(id)}/${path}`, body, key ? { idempotencyKey: key } : {});
      if (path === 'send') setSending(null);
      setNote(done(r));
      c.reload();
      results.reload();
    } catch (err) {
      setError(message(err));
    }
  };
  return (
    <>
      <p>
        <a href="#/campaigns">{t('camp.campaigns2')}</a>
      </p>
      <Loading error={c.error}>
        {c.data && (
          <>
            <h1>{c.data.name}</h1>
            <p>
              <Badge text={c.data.status} />{' '}
              {t('camp.summary', {
                audience: describeAudience(c.data.audience),
                reward: describeReward(c.data.reward, c.data.currency),
                from: when(c.data.valid_from),
                to: when(c.data.valid_to),
                holdout: c.data.holdout_percent,
              })}
            </p>
            {session.can('marketing:write') && c.data.status !== 'ended' && (
              <p class="actions">
                {(c.data.trigger === 'manual' || c.data.trigger === 'schedule') && c.data.status === 'active' && (
                  <button type="button" class="primary" onClick={() => askSend(c.data!)} disabled={sending !== null}>
                    {t('camp.sendToTheAudience')}
                  </button>
                )}
                {c.data.status === 'active' ? (
                  <button type="button" onClick={() => act('status', { status: 'paused' }, () => t('camp.paused'))}>
                    {t('camp.pause')}
                  </button>
                ) : (
                  <button type="button" onClick={() => act('status', { status: 'active' }, () => t('camp.resumed'))}>
                    {t('camp.resume')}
                  </button>
                )}
                <button type="button" class="danger" onClick={() => confirm(t('camp.endConfirm')) && act('status', { status: 'ended' }, () => t('camp.ended'))}>
                  {t('camp.end')}
                </button>
              </p>
            )}
            {sending !== null && (
              <div class="confirm" role="alertdialog" aria-labelledby="send-confirm-text">
                <p id="send-confirm-text" data-testid="send-confirm-text">
                  {t(c.data.holdout_percent > 0 ? 'camp.sendConfirmHoldout' : 'camp.sendConfirm', {
                    name: c.data.name,
                    audience: describeAudience(c.data.audience),
                    n: sending.members,
                    holdout: c.data.holdout_percent,
                    reward: describeReward(c.data.reward, c.data.currency),
                  })}
                </p>
                <p>
                  <button type="button" class="primary" onClick={() => act('send', {}, (r) => t('camp.issued', { n: Number(r.issued) }), sending.key)}>
                    {t(error ? 'camp.sendRetry' : 'camp.sendYes', { n: sending.members })}
                  </button>{' '}
                  <button type="button" onClick={() => setSending(null)}>
                    {t('camp.cancel')}
                  </button>
                </p>
              </div>
            )}
            <Alert text={error} />
            {note && (
              <p role="status" class="ok">
                {note}
              </p>
            )}
            <h2>{t('camp.results')}</h2>
            <Loading error={results.error}>
              {results.data && (
                <>
                  <section class="stats" aria-label={t('camp.campaignResults')}>
                    <Stat label={t('camp.couponsIssued')} value={String(results.data.coupons_issued)} sub={t('camp.redeemed', { n: results.data.coupons_redeemed })} />
                    <Stat label={t('camp.redemptionRate')} value={percent(results.data.treatment.redemption_rate)} sub={t('camp.treated', { n: results.data.treatment.members })} />
                    <Stat label={t('camp.discountGiven')} value={money(results.data.discount_given, c.data.currency)} />
                    <Stat label={t('camp.holdoutMembers')} value={String(results.data.holdout.members)} />
                  </section>
                  <UpliftChart
                    treatment={results.data.treatment.spend_per_member ?? 0}
                    holdout={results.data.holdout.spend_per_member ?? 0}
                    uplift={results.data.uplift}
                    format={(v) => money(Math.round(v), c.data!.currency)}
                  />
                </>
              )}
            </Loading>
          </>
        )}
      </Loading>
    </>
  );
}
