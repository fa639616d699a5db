import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { describeError } from '@facepay/web-common';
import { ApiError } from './api.ts';
import { i18n, t } from './messages.ts';

/** A failed call in the reader's language, from the API's stable code; `currency` formats money in its details. */
export function message(e: unknown, currency?: string): string {
  return describeError(i18n, e instanceof ApiError ? e : undefined, currency);
}

/** The merchant's time zone for dates shown in the console (set from the programme once known). */
let zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
export function setZone(tz: string): void {
  zone = tz;
  i18n.setTimeZone(tz);
}
i18n.setTimeZone(zone);
export function currentZone(): string {
  return zone;
}

export function when(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  return i18n.dateTime(ms);
}

/** The merchant's currency in the reader's language: CNY is ¥12.50, never minor units. */
export function money(amount: number, currency: string): string {
  return i18n.money(amount, currency);
}

/** Minor units in one major unit of a currency: 100 for EUR, 1 for JPY (a chart's smallest money step). */
export function minorPerMajor(currency: string): number {
  return 10 ** (new Intl.NumberFormat('en', { style: 'currency', currency: currency.toUpperCase() }).resolvedOptions().maximumFractionDigits ?? 2);
}

export function percent(x: number | null | undefined): string {
  return x === null || x === undefined ? '—' : `${Math.round(x * 1000) / 10} %`;
}

/** Loads data for a page; `reload()` fetches again after a change. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[] = []): { data: T | undefined; error: string; reload: () => void } {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState('');
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setError('');
    load().then(
      (d) => live && setData(d),
      (e: unknown) => live && setError(message(e)),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  return { data, error, reload: () => setTick((t) => t + 1) };
}

/**
 * An action's error line: `attempt` clears it, runs the action and shows what went wrong, so a
 * handler holds only what it does.
 */
export function useAttempt(): { error: string; setError: (text: string) => void; attempt: (action: () => Promise<unknown>) => Promise<void> } {
  const [error, setError] = useState('');
  const attempt = async (action: () => Promise<unknown>): Promise<void> => {
    setError('');
    try {
      await action();
    } catch (err) {
      setError(message(err));
    }
  };
  return { error, setError, attempt };
}

export function Field(props: {
  id: string;
  label: string;
  type?: string;
  value: string;
  onInput: (v: string) => void;
  autocomplete?: string;
  hint?: string;
  required?: boolean;
  placeholder?: string;
  min?: string;
  max?: string;
}) {
  return (
    <p class="field">
      <label for={props.id}>{props.label}</label>
      <input
        id={props.id}
        name={props.id}
        type={props.type ?? 'text'}
        value={props.value}
        required={props.required}
        placeholder={props.placeholder}
        min={props.min}
        max={props.max}
        autocomplete={props.autocomplete}
        aria-describedby={props.hint ? `${props.id}-hint` : undefined}
        onInput={(e) => props.onInput((e.target as HTMLInputElement).value)}
      />
      {props.hint && (
        <small id={`${props.id}-hint`} class="hint">
          {props.hint}
        </small>
      )}
    </p>
  );
}

export function Select(props: { id: string; label: string; value: string; onChange: (v: string) => void; options: readonly (readonly [string, string])[] }) {
  return (
    <p class="field">
      <label for={props.id}>{props.label}</label>
      <select id={props.id} name={props.id} value={props.value} onChange={(e) => props.onChange((e.target as HTMLSelectElement).value)}>
        {props.options.map(([v, label]) => (
          <option value={v} key={v}>
            {label}
          </option>
        ))}
      </select>
    </p>
  );
}

export function Alert({ text }: { text: string }) {
  return text ? (
    <p role="alert" class="alert">
      {text}
    </p>
  ) : null;
}

/**
 * The confirmation before an action that cannot be taken back: a title, what will happen (the
 * children), the action and a way back; `busy` holds both buttons while the action is on its way.
 */
export function ConfirmDialog(props: {
  id: string;
  title: string;
  level?: 2 | 3;
  confirm: string;
  cancel: string;
  busy?: boolean;
  error?: string;
  onConfirm: () => void;
  onCancel: () => void;
  children: ComponentChildren;
}) {
  const Heading = props.level === 3 ? 'h3' : 'h2';
  return (
    <div role="alertdialog" aria-labelledby={`${props.id}-title`} aria-describedby={`${props.id}-text`}>
      <Heading id={`${props.id}-title`}>{props.title}</Heading>
      <div id={`${props.id}-text`}>{props.children}</div>
      {props.error !== undefined && <Alert text={props.error} />}
      <p>
        <button type="button" class="primary" disabled={props.busy} onClick={props.onConfirm}>
          {props.confirm}
        </button>{' '}
        <button type="button" disabled={props.busy} onClick={props.onCancel}>
          {props.cancel}
        </button>
      </p>
    </div>
  );
}

export function Loading({ error, children }: { error: string; children?: ComponentChildren }) {
  if (error) return <Alert text={error} />;
  return children ? <>{children}</> : <p aria-live="polite">{t('ui.loading')}</p>;
}

/** A secret or code shown this once, with the reason it will not be shown again. */
export function ShownOnce({ label, value, note }: { label: string; value: string; note: string }) {
  return (
    <div class="once" role="status">
      <p>
        <strong>{label}</strong>
      </p>
      <p>
        <code class="secret" data-testid="shown-once">
          {value}
        </code>
      </p>
      <p class="hint">{note}</p>
    </div>
  );
}

/**
 * Copies a value (an id to paste into the till's settings) with a visible "Copied" that a screen
 * reader also hears; where the browser refuses the clipboard (plain HTTP on the network), it says
 * so, and the value stays selectable beside the button.
 */
export function CopyButton({ value, label }: { value: string; label: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setState('copied');
    } catch {
      setState('failed');
    }
  };
  return (
    <>
      <button type="button" class="copy" onClick={copy} aria-label={label}>
        {t('ui.copy')}
      </button>
      <span role="status" class={state === 'failed' ? 'copy-status failed' : 'copy-status ok'}>
        {state === 'copied' ? t('ui.copied') : state === 'failed' ? t('ui.copyFailed') : ''}
      </span>
    </>
  );
}

export function Stat({ label, value, sub }: { label: string; value: string; sub?: string }) {
  return (
    <div class="stat">
      <p class="stat-label">{label}</p>
      <p class="stat-value">{value}</p>
      {sub && <p class="stat-sub">{sub}</p>}
    </div>
  );
}

export function Badge({ text }: { text: string }) {
  return <span class={`badge badge-${text.replace(/[^a-z_]/g, '')}`}>{i18n.lookup(`status.${text}`) ?? text.replace(/_/g, ' ')}</span>;
}
