/**
 * "Your data": the shopper's rights in the portal. The export downloads one JSON file of everything
 * the platform holds about them; the deletion says what goes and what is kept, and asks twice
 * (the password, then a last confirmation). Both ask for the password again.
 */
import { useEffect, useState } from 'preact/hooks';
import { errorMessage, rightsApi, type DeletionTerms } from './api.ts';
import { t } from './messages.ts';

function PasswordField(props: { id: string; value: string; onInput: (v: string) => void }) {
  return (
    <p class="field">
      <label for={props.id}>{t('data.password')}</label>
      <input id={props.id} name={props.id} type="password" autocomplete="current-password" value={props.value} onInput={(e) => props.onInput((e.target as HTMLInputElement).value)} />
    </p>
  );
}

function Export() {
  const [password, setPassword] = useState('');
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (e: { preventDefault(): void }) => {
    e.preventDefault();
    if (busy) return;
    setBusy(true);
    setNote('');
    try {
      const { blob, filename } = await rightsApi.exportData(password);
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = filename;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      setPassword('');
      setNote(t('data.downloaded', { filename }));
    } catch (err) {
      setNote(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={submit} aria-labelledby="export-title">
      <h3 id="export-title">{t('data.downloadTitle')}</h3>
      <p>{t('data.downloadWhat')}</p>
      <PasswordField id="export-password" value={password} onInput={setPassword} />
      <button type="submit" class="primary" disabled={busy}>
        {t('data.downloadMine')}
      </button>
      {note && <p role="status">{note}</p>}
    </form>
  );
}

function Delete({ onDeleted }: { onDeleted: () => void }) {
  const [terms, setTerms] = useState<DeletionTerms | null>(null);
  const [password, setPassword] = useState('');
  const [step, setStep] = useState<'form' | 'confirm'>('form');
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    rightsApi.deletionTerms().then(setTerms, (err: unknown) => setNote(errorMessage(err)));
  }, []);
  const ask = (e: { preventDefault(): void }) => {
    e.preventDefault();
    setNote('');
    if (password === '') return setNote(t('data.enterPassword'));
    setStep('confirm');
  };
  const confirm = async () => {
    if (busy) return;
    setBusy(true);
    try {
      const d = await rightsApi.deleteAccount(password);
      setPassword('');
      if (d.status === 'done') onDeleted();
      else setNote(t('data.beingDeleted'));
    } catch (err) {
      setStep('form');
      setNote(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={ask} aria-labelledby="delete-title">
      <h3 id="delete-title">{t('data.deleteTitle')}</h3>
      <p>{t('data.deleteWhat')}</p>
      {terms && <p>{terms.kept}</p>}
      <p>{t('data.walletEmpty')}</p>
      {step === 'form' ? (
        <>
          <PasswordField id="delete-password" value={password} onInput={setPassword} />
          <button type="submit" class="danger">
            {t('data.deleteMine')}
          </button>
        </>
      ) : (
        <div role="alertdialog" aria-labelledby="delete-confirm">
          <p id="delete-confirm">
            <strong>{t('data.deleteForGood')}</strong>
          </p>
          <button type="button" class="danger" onClick={confirm} disabled={busy}>
            {t('data.yesDelete')}
          </button>
          <button type="button" onClick={() => setStep('form')} disabled={busy}>
            {t('data.keep')}
          </button>
        </div>
      )}
      {note && <p role="alert">{note}</p>}
    </form>
  );
}

export function YourData({ onDeleted }: { onDeleted: () => void }) {
  return (
    <section>
      <h2>{t('data.yourData')}</h2>
      <Export />
      <Delete onDeleted={onDeleted} />
    </section>
  );
}
