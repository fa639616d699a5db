/**
 * Money in, for the operator's admins: import a bank statement (camt.053 or camt.054 XML, as the
 * bank's online banking exports it), resolve each credit nobody's reference matched (to a
 * shopper's RF payment reference, or sent back to the payer; the server applies each once), and
 * read the reconciliation: the float of all wallets against the bank's balance.
 */
import { useState } from 'preact/hooks';
import { Alert, Field, Loading, Stat, money, useAttempt, useLoad } from '../ui.tsx';
import { t } from '../messages.ts';
import type { OpsSession } from './app.tsx';
import { opsCall } from './ops-api.ts';

interface Unmatched {
  entry_ref: string;
  statement_id: string;
  amount: number;
  currency: string;
  reference: string | null;
}

interface Line {
  currency: string;
  float: string;
  wallets: number;
  bank: { balance: string; as_of: string; statement_id: string } | null;
  difference: string | null;
  unmatched: { count: number; total: string };
  merchant_payable: string;
  platform_fees: string;
  funded_by_rail: Record<string, string>;
}

const amount = (minor: string, currency: string): string => money(Number(minor), currency);

function Resolve({ session, entry, onDone }: { session: OpsSession; entry: Unmatched; onDone: (text: string) => void }) {
  const [reference, setReference] = useState('');
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const act = useAttempt();
  const path = `/v1/operator/funding/unmatched/${encodeURIComponent(entry.entry_ref)}`;
  const run = (fn: () => Promise<void>) =>
    void act.attempt(async () => {
      setBusy(true);
      try {
        await fn();
      } finally {
        setBusy(false);
      }
    });
  const assign = (e: Event) => {
    e.preventDefault();
    run(async () => {
      const who = await opsCall<{ shopper_id: string; name: string | null }>(session.token, 'GET', `/v1/operator/funding/references/${encodeURIComponent(reference.replace(/\s+/g, ''))}`);
      await opsCall(session.token, 'POST', `${path}/assignment`, { shopper_id: who.shopper_id });
      onDone(t('bank.credited', { amount: money(entry.amount, entry.currency), who: who.name ?? who.shopper_id, ref: entry.entry_ref }));
    });
  };
  const sendBack = (e: Event) => {
    e.preventDefault();
    run(async () => {
      await opsCall(session.token, 'POST', `${path}/return`, { note });
      onDone(t('bank.returnedToPayer', { amount: money(entry.amount, entry.currency), ref: entry.entry_ref }));
    });
  };
  const id = entry.entry_ref.replace(/[^A-Za-z0-9_-]/g, '_');
  return (
    <div class="resolve">
      <form onSubmit={assign} class="inline">
        <Field id={`assign-${id}`} label={t('bank.shopperReference')} value={reference} onInput={setReference} required />
        <button type="submit" disabled={busy}>
          {t('bank.creditShopper')}
        </button>
      </form>
      <form onSubmit={sendBack} class="inline">
        <Field id={`return-${id}`} label={t('bank.sendBackWhy')} value={note} onInput={setNote} required />
        <button type="submit" disabled={busy}>
          {t('bank.markReturned')}
        </button>
      </form>
      <Alert text={act.error} />
    </div>
  );
}

export function MoneyPage({ session }: { session: OpsSession }) {
  const unmatched = useLoad(() => opsCall<{ data: Unmatched[] }>(session.token, 'GET', '/v1/operator/funding/unmatched'), []);
  const rec = useLoad(() => opsCall<{ currencies: Line[]; notes: string[] }>(session.token, 'GET', '/v1/operator/funding/reconciliation'), []);
  const [file, setFile] = useState<File>();
  const [done, setDone] = useState('');
  const act = useAttempt();
  const reload = () => {
    unmatched.reload();
    rec.reload();
  };
  const upload = (e: Event) => {
    e.preventDefault();
    if (!file) return;
    setDone('');
    void act.attempt(async () => {
      const r = await opsCall<{ credited: number; unmatched: number; duplicates: number }>(session.token, 'POST', '/v1/operator/funding/statements', { xml: await file.text() });
      setDone(t('bank.imported', { file: file.name, credited: r.credited, unmatched: r.unmatched, duplicates: r.duplicates }));
      reload();
    });
  };
  return (
    <section>
      <h1>{t('bank.title')}</h1>
      <h2>{t('bank.importStatement')}</h2>
      <form onSubmit={upload}>
        <p class="field">
          <label for="statement-file">{t('bank.statementFile')}</label>
          <input id="statement-file" type="file" accept=".xml,application/xml,text/xml" required onChange={(e) => setFile((e.target as HTMLInputElement).files?.[0])} />
          <small class="hint">{t('bank.sameFileTwice')}</small>
        </p>
        <button type="submit" class="primary" disabled={!file}>
          {t('bank.import')}
        </button>
      </form>
      <Alert text={act.error} />
      {done && <p role="status">{done}</p>}
      <h2>{t('bank.toResolve')}</h2>
      <Loading error={unmatched.error}>
        {unmatched.data &&
          (unmatched.data.data.length === 0 ? (
            <p>{t('bank.noneToResolve')}</p>
          ) : (
            <ul class="unmatched">
              {unmatched.data.data.map((u) => (
                <li key={u.entry_ref} data-entry={u.entry_ref}>
                  <p>
                    <strong>{money(u.amount, u.currency)}</strong>
                    {t('bank.bankEntry')}
                    <code>{u.entry_ref}</code>
                    {t('bank.ofStatement')}
                    <code>{u.statement_id}</code>
                    {t('bank.payerWrote')} {u.reference ? <q>{u.reference}</q> : t('bank.noReference')}
                    {t('bank.entryEnd')}
                  </p>
                  <Resolve session={session} entry={u} onDone={(text) => (setDone(text), reload())} />
                </li>
              ))}
            </ul>
          ))}
      </Loading>
      <h2>{t('bank.reconciliation')}</h2>
      <Loading error={rec.error}>
        {rec.data && (
          <>
            {rec.data.currencies.length === 0 && <p>{t('bank.nothingMoved')}</p>}
            {rec.data.currencies.map((c) => (
              <div key={c.currency} class="stats" data-currency={c.currency}>
                <Stat label={t('bank.float')} value={amount(c.float, c.currency)} sub={t('bank.wallets', { count: c.wallets })} />
                <Stat label={t('bank.bankBalance')} value={c.bank ? amount(c.bank.balance, c.currency) : '—'} sub={c.bank ? t('bank.asOf', { date: c.bank.as_of }) : t('bank.noStatementYet')} />
                <Stat label={t('bank.bankLessFloat')} value={c.difference === null ? '—' : amount(c.difference, c.currency)} />
                <Stat label={t('bank.unmatchedCredits')} value={amount(c.unmatched.total, c.currency)} sub={t('bank.waiting', { count: c.unmatched.count })} />
                <Stat label={t('bank.owedToMerchants')} value={amount(c.merchant_payable, c.currency)} />
                <Stat label={t('bank.platformFees')} value={amount(c.platform_fees, c.currency)} />
              </div>
            ))}
            {rec.data.notes.map((n) => (
              <p class="hint" key={n}>
                {n}
              </p>
            ))}
          </>
        )}
      </Loading>
    </section>
  );
}
