/**
 * "Your data": the shopper's rights in the portal. The export downloads one JSON file of everything
 * the platform holds about them; the deletion says what goes and what is kept, and asks twice
 * (the password, then a last confirmation). Both ask for the password again.
 */
import { useEffect, useState } from 'preact/hooks';
import { errorMessage, rightsApi, type DeletionTerms } from './api.ts';

function PasswordField(props: { id: string; value: string; onInput: (v: string) => void }) {
  return (
    <p class="field">
      <label for={props.id}>Your account password</label>
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
      setNote(`Downloaded ${filename}.`);
    } catch (err) {
      setNote(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={submit} aria-labelledby="export-title">
      <h3 id="export-title">Download your data</h3>
      <p>One JSON file with your account, consents, memberships and visits, payments and refunds, wallet movements, top-ups, coupons, inbox and disputes. Your face is described (when and with which model it was enrolled) but the face template itself is never included, and no photo of you is kept.</p>
      <PasswordField id="export-password" value={password} onInput={setPassword} />
      <button type="submit" class="primary" disabled={busy}>
        Download my data
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
    if (password === '') return setNote('Enter your account password.');
    setStep('confirm');
  };
  const confirm = async () => {
    if (busy) return;
    setBusy(true);
    try {
      const d = await rightsApi.deleteAccount(password);
      setPassword('');
      if (d.status === 'done') onDeleted();
      else setNote('Your account is being deleted. You have been signed out.');
    } catch (err) {
      setStep('form');
      setNote(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={ask} aria-labelledby="delete-title">
      <h3 id="delete-title">Delete your account</h3>
      <p>Deleting your account removes your face templates at once (no terminal can recognise you afterwards), signs you out everywhere, ends your memberships (merchants see only that a member was deleted) and erases your name, e-mail and phone.</p>
      {terms && <p>{terms.kept}</p>}
      <p>Your wallet must be empty first: spend the balance, or have it paid out at the service desk. It cannot be undone.</p>
      {step === 'form' ? (
        <>
          <PasswordField id="delete-password" value={password} onInput={setPassword} />
          <button type="submit" class="danger">
            Delete my account
          </button>
        </>
      ) : (
        <div role="alertdialog" aria-labelledby="delete-confirm">
          <p id="delete-confirm">
            <strong>Delete your Facepay account for good?</strong>
          </p>
          <button type="button" class="danger" onClick={confirm} disabled={busy}>
            Yes, delete my account
          </button>
          <button type="button" onClick={() => setStep('form')} disabled={busy}>
            Keep my account
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
      <h2>Your data</h2>
      <Export />
      <Delete onDeleted={onDeleted} />
    </section>
  );
}
