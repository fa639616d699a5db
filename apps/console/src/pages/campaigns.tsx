import { useEffect, useState } from 'preact/hooks';
import { parseMoney } from '@facepay/web-common';
import { call, newActionKey, type Audience, type Campaign, type CampaignResults, type List, type Reward } from '../api.ts';
import { UpliftChart } from '../charts.tsx';
import { go, type Session } from '../session.ts';
import { Alert, Badge, Field, Loading, message, money, percent, Select, Stat, useLoad, when } from '../ui.tsx';
import { SEGMENTS } from './members.tsx';

export function CampaignsPage({ session, id }: { session: Session; id: string | undefined }) {
  if (id === 'new' && session.can('marketing:write')) return <NewCampaign session={session} />;
  if (id) return <CampaignDetail session={session} id={id} />;
  return <CampaignList session={session} />;
}

function describeReward(r: Reward, currency: string): string {
  switch (r.kind) {
    case 'amount_off':
      return `${money(r.amount, currency)} off${r.min_spend ? ` from ${money(r.min_spend, currency)}` : ''}`;
    case 'percent_off':
      return `${r.percent} % off${r.cap ? ` (at most ${money(r.cap, currency)})` : ''}`;
    case 'spend_save':
      return `spend ${money(r.threshold, currency)}, save ${money(r.amount, currency)}`;
    default:
      return r.label;
  }
}

function describeAudience(a: Audience): string {
  switch (a.kind) {
    case 'all':
      return 'every member';
    case 'new':
      return `joined in the last ${a.days ?? 30} days`;
    case 'segment':
      return `segment ${a.segment.replace('_', ' ')}`;
    case 'birthday_month':
      return 'birthday this month';
    case 'lapsed':
      return `no visit for ${a.days} days`;
    default:
      return `tagged ${a.tag}`;
  }
}

function CampaignList({ session }: { session: Session }) {
  const list = useLoad(() => call<List<Campaign>>('GET', '/v1/campaigns'));
  return (
    <>
      <h1>Campaigns</h1>
      {session.can('marketing:write') && (
        <p>
          <a class="button primary" href="#/campaigns/new">
            New campaign
          </a>
        </p>
      )}
      <Loading error={list.error}>
        {list.data &&
          (list.data.data.length === 0 ? (
            <p>No campaigns yet.</p>
          ) : (
            <table>
              <caption class="sr-only">Campaigns</caption>
              <thead>
                <tr>
                  <th scope="col">Campaign</th>
                  <th scope="col">Status</th>
                  <th scope="col">Audience</th>
                  <th scope="col">Reward</th>
                  <th scope="col">Coupons</th>
                  <th scope="col">Ends</th>
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

const AUDIENCES = [
  ['all', 'Every member'],
  ['new', 'New members'],
  ['segment', 'A segment'],
  ['lapsed', 'Lapsed: no visit for a while'],
  ['birthday_month', 'Birthday this month'],
  ['tag', 'Members with a tag'],
] as const;

const REWARDS = [
  ['amount_off', 'Amount off'],
  ['percent_off', 'Percent off'],
  ['spend_save', 'Spend and save'],
  ['free_item', 'Free item'],
] as const;

const TRIGGERS = [
  ['manual', 'Send now, by hand'],
  ['join', 'Welcome: when someone joins'],
  ['payment', 'After a payment: for next time'],
  ['schedule', 'Scheduled: the audience, every hour'],
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
    const t = setTimeout(() => {
      call<{ count: number }>('POST', '/v1/audiences/preview', { audience: a }).then(
        (r) => live && setCount(r.count),
        (e: unknown) => live && setError(message(e)),
      );
    }, 250);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [f.audience, f.segment, f.days, f.tag]);

  const minor = (text: string, what: string, optional = false): number | undefined => {
    if (optional && text.trim() === '') return undefined;
    const v = parseMoney(text, currency);
    if (v === undefined) throw new Error(`Enter ${what} as an amount, for example 5 or 4.50.`);
    return v;
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    setError('');
    try {
      let reward: Reward;
      const minSpend = minor(f.min_spend, 'the minimum spend', true);
      if (f.reward === 'amount_off') reward = { kind: 'amount_off', amount: minor(f.amount, 'the amount off')!, ...(minSpend ? { min_spend: minSpend } : {}) };
      else if (f.reward === 'percent_off') reward = { kind: 'percent_off', percent: Number(f.percent), cap: minor(f.cap, 'the cap', true) ?? null, ...(minSpend ? { min_spend: minSpend } : {}) };
      else if (f.reward === 'spend_save') reward = { kind: 'spend_save', threshold: minor(f.threshold, 'the threshold')!, amount: minor(f.amount, 'the saving')! };
      else reward = { kind: 'free_item', code: f.item_code.trim(), label: f.item_label.trim() };
      const validTo = Date.parse(`${f.valid_to}T23:59:59Z`);
      if (Number.isNaN(validTo)) throw new Error('Choose the last day of the campaign.');
      const maxDiscount = minor(f.max_discount, 'the budget', true);
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
      setError(err instanceof Error && !('code' in err) ? err.message : message(err));
    }
  };

  return (
    <>
      <p>
        <a href="#/campaigns">← Campaigns</a>
      </p>
      <h1>New campaign</h1>
      <form onSubmit={submit} class="stack">
        <Field id="campaign-name" label="Name" value={f.name} onInput={set('name')} required />
        <Select id="campaign-trigger" label="When it gives the coupon" value={f.trigger} onChange={set('trigger')} options={TRIGGERS} />
        <fieldset>
          <legend>Audience</legend>
          <Select id="campaign-audience" label="Who" value={f.audience} onChange={set('audience')} options={AUDIENCES} />
          {f.audience === 'segment' && <Select id="campaign-segment" label="Segment" value={f.segment} onChange={set('segment')} options={SEGMENTS} />}
          {(f.audience === 'new' || f.audience === 'lapsed') && (
            <Field id="campaign-days" label={f.audience === 'new' ? 'Joined within (days)' : 'No visit for (days)'} type="number" min="1" value={f.days} onInput={set('days')} />
          )}
          {f.audience === 'tag' && <Field id="campaign-tag" label="Tag" value={f.tag} onInput={set('tag')} />}
          <p class="preview" role="status" aria-live="polite" data-testid="audience-count">
            {count === null ? 'Counting the audience…' : `${count} ${count === 1 ? 'member' : 'members'} in this audience now.`}
          </p>
        </fieldset>
        <fieldset>
          <legend>Reward</legend>
          <Select id="campaign-reward" label="Kind" value={f.reward} onChange={set('reward')} options={REWARDS} />
          {f.reward === 'amount_off' && <Field id="campaign-amount" label={`Amount off (${currency})`} value={f.amount} onInput={set('amount')} required />}
          {f.reward === 'percent_off' && (
            <>
              <Field id="campaign-percent" label="Percent off" type="number" min="1" max="100" value={f.percent} onInput={set('percent')} required />
              <Field id="campaign-cap" label={`At most (${currency}, optional)`} value={f.cap} onInput={set('cap')} />
            </>
          )}
          {f.reward === 'spend_save' && (
            <>
              <Field id="campaign-threshold" label={`Spend at least (${currency})`} value={f.threshold} onInput={set('threshold')} required />
              <Field id="campaign-amount" label={`Save (${currency})`} value={f.amount} onInput={set('amount')} required />
            </>
          )}
          {f.reward === 'free_item' && (
            <>
              <Field id="campaign-item-label" label="Item (e.g. A free coffee)" value={f.item_label} onInput={set('item_label')} required />
              <Field id="campaign-item-code" label="Code for the till" value={f.item_code} onInput={set('item_code')} required />
            </>
          )}
          {(f.reward === 'amount_off' || f.reward === 'percent_off') && (
            <Field id="campaign-min-spend" label={`Minimum basket (${currency}, optional)`} value={f.min_spend} onInput={set('min_spend')} />
          )}
        </fieldset>
        <fieldset>
          <legend>Validity and budget</legend>
          <Field id="campaign-valid-to" label="Last day" type="date" value={f.valid_to} onInput={set('valid_to')} required />
          <Field id="campaign-coupon-days" label="Each coupon lasts (days, optional)" type="number" min="1" value={f.coupon_days} onInput={set('coupon_days')} hint="Empty: until the campaign ends." />
          <Field id="campaign-max-discount" label={`Budget: total discount at most (${currency}, optional)`} value={f.max_discount} onInput={set('max_discount')} />
          <Field id="campaign-max-coupons" label="Budget: coupons at most (optional)" type="number" min="1" value={f.max_coupons} onInput={set('max_coupons')} />
          <Field
            id="campaign-holdout"
            label="Holdout (%)"
            type="number"
            min="0"
            max="50"
            value={f.holdout}
            onInput={set('holdout')}
            hint="A random share of the audience gets nothing, so that the results can show what the campaign changed."
          />
        </fieldset>
        <fieldset>
          <legend>Message in the member's inbox (optional)</legend>
          <Field id="campaign-message-title" label="Title" value={f.message_title} onInput={set('message_title')} />
          <Field id="campaign-message-body" label="Text" value={f.message_body} onInput={set('message_body')} />
        </fieldset>
        <Alert text={error} />
        <p>
          <button type="submit" class="primary">
            Create campaign
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
        <a href="#/campaigns">← Campaigns</a>
      </p>
      <Loading error={c.error}>
        {c.data && (
          <>
            <h1>{c.data.name}</h1>
            <p>
              <Badge text={c.data.status} /> {describeAudience(c.data.audience)}; {describeReward(c.data.reward, c.data.currency)}; from {when(c.data.valid_from)} to{' '}
              {when(c.data.valid_to)}; holdout {c.data.holdout_percent} %.
            </p>
            {session.can('marketing:write') && c.data.status !== 'ended' && (
              <p class="actions">
                {(c.data.trigger === 'manual' || c.data.trigger === 'schedule') && c.data.status === 'active' && (
                  <button type="button" class="primary" onClick={() => askSend(c.data!)} disabled={sending !== null}>
                    Send to the audience now
                  </button>
                )}
                {c.data.status === 'active' ? (
                  <button type="button" onClick={() => act('status', { status: 'paused' }, () => 'Paused.')}>
                    Pause
                  </button>
                ) : (
                  <button type="button" onClick={() => act('status', { status: 'active' }, () => 'Resumed.')}>
                    Resume
                  </button>
                )}
                <button type="button" class="danger" onClick={() => confirm('End this campaign for good?') && act('status', { status: 'ended' }, () => 'Ended.')}>
                  End
                </button>
              </p>
            )}
            {sending !== null && (
              <div class="confirm" role="alertdialog" aria-labelledby="send-confirm-text">
                <p id="send-confirm-text" data-testid="send-confirm-text">
                  Send “{c.data.name}” now (audience: {describeAudience(c.data.audience)}): {sending.members} {sending.members === 1 ? 'member' : 'members'} in this audience
                  {c.data.holdout_percent > 0 ? `, less the ${c.data.holdout_percent} % holdout, who get nothing` : ''}. Each member who does not hold it yet gets a
                  coupon for {describeReward(c.data.reward, c.data.currency)}, in their inbox at once. This cannot be undone.
                </p>
                <p>
                  <button type="button" class="primary" onClick={() => act('send', {}, (r) => `Issued ${String(r.issued)} coupons.`, sending.key)}>
                    {error ? 'Try again: send' : 'Yes, send'} to {sending.members} {sending.members === 1 ? 'member' : 'members'}
                  </button>{' '}
                  <button type="button" onClick={() => setSending(null)}>
                    Cancel
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
            <h2>Results</h2>
            <Loading error={results.error}>
              {results.data && (
                <>
                  <section class="stats" aria-label="Campaign results">
                    <Stat label="Coupons issued" value={String(results.data.coupons_issued)} sub={`${results.data.coupons_redeemed} redeemed`} />
                    <Stat label="Redemption rate" value={percent(results.data.treatment.redemption_rate)} sub={`${results.data.treatment.members} treated members`} />
                    <Stat label="Discount given" value={money(results.data.discount_given, c.data.currency)} />
                    <Stat label="Holdout members" value={String(results.data.holdout.members)} />
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
