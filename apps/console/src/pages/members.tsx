import { Fragment } from 'preact';
import { useState } from 'preact/hooks';
import { fieldText, parseMoney } from '@facepay/web-common';
import { call, qs, type Coupon, type List, type Member, type MemberProfile } from '../api.ts';
import type { Session } from '../session.ts';
import { Alert, Badge, Field, Loading, money, Select, Stat, useAttempt, useLoad, when } from '../ui.tsx';
import { i18n, t } from '../messages.ts';

/** The segments with their names in the reader's language (a function: the language can change). */
export const segments = () =>
  [
    ['new', t('mem.segNew')],
    ['active', t('mem.segActive')],
    ['champion', t('mem.segChampion')],
    ['at_risk', t('mem.segAtRisk')],
    ['lapsed', t('mem.segLapsed')],
  ] as const;

interface Overview {
  members: number;
  left: number;
  segments: Record<string, number>;
}

export function MembersPage({ session, id }: { session: Session; id: string | undefined }) {
  return id ? <MemberProfilePage session={session} id={id} /> : <MemberList session={session} />;
}

function MemberList({ session }: { session: Session }) {
  const currency = session.currency ?? 'EUR';
  const personal = session.can('members:read');
  const overview = useLoad(() => call<Overview>('GET', '/v1/members/overview'));
  const [form, setForm] = useState({ q: '', segment: '', tag: '', status: 'active', spend_min: '', spend_max: '', last_visit_from: '', last_visit_to: '' });
  const [filters, setFilters] = useState<Record<string, string>>({ status: 'active' });
  const [cursors, setCursors] = useState<string[]>([]);
  const { error, setError } = useAttempt();
  const cursor = cursors[cursors.length - 1];
  const page = useLoad(() => call<List<Member>>('GET', `/v1/members${qs({ ...filters, limit: 50, cursor })}`), [JSON.stringify(filters), cursor]);
  const set = (k: keyof typeof form) => (v: string) => setForm({ ...form, [k]: v });
  const apply = (e: Event) => {
    e.preventDefault();
    setError('');
    const next: Record<string, string> = {};
    for (const k of ['q', 'segment', 'tag', 'status', 'last_visit_from', 'last_visit_to'] as const) if (form[k]) next[k] = form[k];
    for (const k of ['spend_min', 'spend_max'] as const) {
      if (!form[k]) continue;
      const minor = parseMoney(form[k], currency);
      if (minor === undefined) return setError(t('mem.enterSpend'));
      next[k] = String(minor);
    }
    setCursors([]);
    setFilters(next);
  };
  const pickSegment = (segment: string) => {
    setForm({ ...form, segment });
    setCursors([]);
    setFilters({ ...filters, ...(segment ? { segment } : {}) });
  };
  return (
    <>
      <h1>{t('mem.members')}</h1>
      <Loading error={overview.error}>
        {overview.data && (
          <section class="stats" aria-label={t('mem.membersPerSegment')}>
            <Stat label={t('mem.members')} value={String(overview.data.members)} sub={t('mem.leftCount', { n: overview.data.left })} />
            {segments().map(([s, label]) => (
              <button type="button" class="stat stat-button" key={s} onClick={() => pickSegment(s)} aria-pressed={filters.segment === s}>
                <span class="stat-label">{label}</span>
                <span class="stat-value">{overview.data!.segments[s] ?? 0}</span>
              </button>
            ))}
          </section>
        )}
      </Loading>
      <form class="filters" onSubmit={apply} role="search" aria-label={t('mem.members')}>
        {/* A cashier sees members by member id only: no search of the personal fields. */}
        {personal && <Field id="member-q" label={t('mem.nameEMailOr')} value={form.q} onInput={set('q')} />}
        <Select id="member-segment" label={t('mem.segment')} value={form.segment} onChange={set('segment')} options={[['', t('mem.anySegment')], ...segments()]} />
        <Field id="member-tag" label={t('mem.tag')} value={form.tag} onInput={set('tag')} />
        <Select id="member-status" label={t('mem.status')} value={form.status} onChange={set('status')} options={[
            ['active', t('mem.statusMembers')],
            ['left', t('mem.statusLeft')],
            ['all', t('mem.statusAll')],
          ]}
        />
        <Field id="member-spend-min" label={t('mem.spentAtLeast', { currency })} value={form.spend_min} onInput={set('spend_min')} />
        <Field id="member-spend-max" label={t('mem.spentAtMost', { currency })} value={form.spend_max} onInput={set('spend_max')} />
        <Field id="member-visit-from" label={t('mem.lastVisitFrom')} type="date" value={form.last_visit_from} onInput={set('last_visit_from')} />
        <Field id="member-visit-to" label={t('mem.lastVisitBefore')} type="date" value={form.last_visit_to} onInput={set('last_visit_to')} />
        <p class="field">
          <button type="submit" class="primary">
            {t('mem.applyFilters')}
          </button>
        </p>
      </form>
      <Alert text={error} />
      {session.can('members:export') && (
        <p>
          <a class="button" href={`/v1/members/export.csv${qs(filters)}`} download>
            {t('mem.exportTheseMembersAs')}
          </a>
        </p>
      )}
      <Loading error={page.error}>
        {page.data && (
          <>
            <p aria-live="polite">{t('mem.match', { n: page.data.total ?? page.data.data.length })}</p>
            <table>
              <caption class="sr-only">{t('mem.members')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('mem.member')}</th>
                  <th scope="col">{t('mem.segment')}</th>
                  <th scope="col">{t('mem.visits')}</th>
                  <th scope="col">{t('mem.spend')}</th>
                  <th scope="col">{t('mem.lastVisit')}</th>
                  <th scope="col">{t('mem.tags')}</th>
                </tr>
              </thead>
              <tbody>
                {page.data.data.map((m) => (
                  <tr key={m.id}>
                    <td>
                      <a href={`#/members/${encodeURIComponent(m.id)}`}>{m.fields.name ?? m.fields.email ?? m.id}</a>
                      {(m.fields.name ?? m.fields.email) !== undefined && (
                        <>
                          <br />
                          <code class="small">{m.id}</code>
                        </>
                      )}
                      {m.status === 'left' && <Badge text="left" />}
                      {m.status === 'deleted' && <Badge text="account deleted" />}
                    </td>
                    <td>
                      <Badge text={m.segment} />
                    </td>
                    <td class="num">{m.visits}</td>
                    <td class="num">{money(m.spend, currency)}</td>
                    <td>{when(m.last_visit_at)}</td>
                    <td>{m.tags.join(', ')}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <p class="pager">
              {cursors.length > 0 && (
                <button type="button" onClick={() => setCursors(cursors.slice(0, -1))}>
                  {t('mem.previous')}
                </button>
              )}
              {page.data.has_more && page.data.next_cursor && (
                <button type="button" onClick={() => setCursors([...cursors, page.data!.next_cursor!])}>
                  {t('mem.next')}
                </button>
              )}
            </p>
          </>
        )}
      </Loading>
    </>
  );
}

function MemberProfilePage({ session, id }: { session: Session; id: string }) {
  const currency = session.currency ?? 'EUR';
  const m = useLoad(() => call<MemberProfile>('GET', `/v1/members/${encodeURIComponent(id)}`), [id]);
  const coupons = useLoad(() => call<List<Coupon>>('GET', `/v1/members/${encodeURIComponent(id)}/coupons`), [id]);
  const [tag, setTag] = useState('');
  const { error, attempt } = useAttempt();
  const addTag = async (e: Event) => {
    e.preventDefault();
    await attempt(async () => {
      await call('POST', `/v1/members/${encodeURIComponent(id)}/tags`, { tag });
      setTag('');
      m.reload();
    });
  };
  const removeTag = async (tagName: string) => {
    await attempt(async () => {
      await call('DELETE', `/v1/members/${encodeURIComponent(id)}/tags/${encodeURIComponent(tagName)}`);
      m.reload();
    });
  };
  return (
    <>
      <p>
        <a href="#/members">{t('mem.allMembers')}</a>
      </p>
      <Loading error={m.error}>
        {m.data && (
          <>
            <h1>{m.data.fields.name ?? m.data.id}</h1>
            <section class="stats" aria-label={t('mem.memberFigures')}>
              <Stat label={t('mem.segment')} value={segments().find(([s]) => s === m.data!.segment)?.[1] ?? m.data.segment.replace('_', ' ')} sub={`RFM ${m.data.rfm.recency}-${m.data.rfm.frequency}-${m.data.rfm.monetary}`} />
              <Stat label={t('mem.visits')} value={String(m.data.visits)} sub={t('mem.lastAt', { when: when(m.data.last_visit_at) })} />
              <Stat label={t('mem.spend')} value={money(m.data.spend, currency)} sub={t('mem.perVisit', { amount: money(m.data.average_ticket, currency) })} />
              <Stat label={t('mem.memberSince')} value={when(m.data.joined_at)} />
            </section>
            <h2>{session.can('members:read') ? t('mem.whatShared') : t('mem.member')}</h2>
            <dl class="facts">
              <dt>{t('mem.memberId')}</dt>
              <dd>
                <code>{m.data.id}</code>
              </dd>
              {Object.entries(m.data.fields).map(([k, v]) => (
                <Fragment key={k}>
                  <dt>{fieldText(i18n, k)}</dt>
                  <dd>{v}</dd>
                </Fragment>
              ))}
              <dt>{t('mem.usualDays')}</dt>
              <dd>{m.data.usual_days.join(', ') || '—'}</dd>
              <dt>{t('mem.usualHours')}</dt>
              <dd>{m.data.usual_hours.map((h) => `${h}:00`).join(', ') || '—'}</dd>
            </dl>
            <h2>{t('mem.tags')}</h2>
            <ul class="tags">
              {m.data.tags.map((tagName) => (
                <li key={tagName}>
                  {tagName}
                  {session.can('members:write') && (
                    <button type="button" class="link" onClick={() => removeTag(tagName)} aria-label={t('mem.removeTag', { tag: tagName })}>
                      ×
                    </button>
                  )}
                </li>
              ))}
            </ul>
            {session.can('members:write') && (
              <form class="inline" onSubmit={addTag}>
                <Field id="member-new-tag" label={t('mem.addATag')} value={tag} onInput={setTag} required />
                <button type="submit">{t('mem.addTag')}</button>
              </form>
            )}
            <Alert text={error} />
            <h2>{t('mem.coupons')}</h2>
            <Loading error={coupons.error}>
              {coupons.data &&
                (coupons.data.data.length === 0 ? (
                  <p>{t('mem.none')}</p>
                ) : (
                  <ul class="plain">
                    {coupons.data.data.map((c) => (
                      <li key={c.id}>
                        {c.title} <Badge text={c.status} /> {t('mem.until', { when: when(c.valid_to) })}
                      </li>
                    ))}
                  </ul>
                ))}
            </Loading>
            <h2>{t('mem.recentPurchases')}</h2>
            {m.data.recent_purchases.length === 0 ? (
              <p>{t('mem.none')}</p>
            ) : (
              <table>
                <thead>
                  <tr>
                    <th scope="col">{t('mem.when')}</th>
                    <th scope="col">{t('mem.amount')}</th>
                    <th scope="col">{t('mem.refunded')}</th>
                    <th scope="col">{t('mem.payment')}</th>
                  </tr>
                </thead>
                <tbody>
                  {m.data.recent_purchases.map((p) => (
                    <tr key={p.payment_intent}>
                      <td>{when(p.created)}</td>
                      <td class="num">{money(p.amount, p.currency)}</td>
                      <td class="num">{money(p.refunded, p.currency)}</td>
                      <td>{session.can('payments:read') ? <a href={`#/payments/${encodeURIComponent(p.payment_intent)}`}>{p.payment_intent}</a> : p.payment_intent}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </>
        )}
      </Loading>
    </>
  );
}
