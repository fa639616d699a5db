import { render } from 'preact';
import { useEffect, useReducer, useRef, useState } from 'preact/hooks';
import { activateDevice, DeviceApiError, DeviceClient, IndexedDbKeyStore } from '@facepay/device-sdk';
import { CameraError, CameraSession, CaptureTimeout, STREAM, type CapturedFrame } from '@facepay/face-capture';
import { isPlatformAnswer, terminalApi, type TerminalApi, type TerminalInfo } from './api.ts';
import { ConnectionMonitor } from './connection.ts';
import { describeError, fieldText, LOCALE_NAMES, LOCALES, type Locale } from '@facepay/web-common';
import { initialState, step, type Event, type FaceProblem, type State } from './flow.ts';
import { i18n, t } from './messages.ts';
import { scanPayCode } from './qr.ts';
import './style.css';

const keyStore = new IndexedDbKeyStore();

/** How long the camera looks for a steady face before the terminal says what is wrong and offers another way. */
const FACE_TIMEOUT_MS = 20_000;

const money = (amount: number, currency: string) => i18n.money(amount, currency);

/** A refusal or failure in the shopper's language, from the platform's stable code (never its English text). */
function errorText(e: unknown, currency?: string): string {
  if (e instanceof DeviceApiError) return describeError(i18n, e, currency);
  return describeError(i18n, undefined);
}
/** The words for a code a decision or payment answer carried; `network` is the terminal's own, for a call that got no answer. */
const codeText = (code: string, currency?: string) => (code === 'network' ? t('error.network') : describeError(i18n, { code, status: 400 }, currency));

function faceProblemText(p: FaceProblem): string {
  return p.kind === 'camera' ? t(`capture.camera.${p.problem}`) : t('capture.timeout', { hint: t(`capture.guidance.${p.guidance}`) });
}

function LanguageSwitch() {
  return (
    <select class="language" aria-label={t('language.label')} value={i18n.locale} onChange={(e) => i18n.setLocale((e.target as HTMLSelectElement).value as Locale)}>
      {LOCALES.map((l) => (
        <option key={l} value={l} lang={l}>
          {LOCALE_NAMES[l]}
        </option>
      ))}
    </select>
  );
}

function newId(prefix: string): string {
  return `${prefix}_${crypto.randomUUID().replace(/-/g, '')}`;
}

function Keypad({ onKey, label }: { onKey: (key: string) => void; label: string }) {
  const keys = ['1', '2', '3', '4', '5', '6', '7', '8', '9', 'clear', '0', 'back'];
  const text = (k: string) => (k === 'back' ? '⌫' : k === 'clear' ? 'C' : k);
  const aria = (k: string) => (k === 'back' ? t('keypad.delete') : k === 'clear' ? t('keypad.clear') : k);
  return (
    <div class="keypad" role="group" aria-label={label}>
      {keys.map((k) => (
        <button type="button" key={k} aria-label={aria(k)} onClick={() => onKey(k)}>
          {text(k)}
        </button>
      ))}
    </div>
  );
}

function Activate({ onDone }: { onDone: (c: DeviceClient) => void }) {
  const [code, setCode] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  async function submit() {
    setBusy(true);
    setError('');
    try {
      const { client } = await activateDevice({ baseUrl: location.origin, code, keyStore });
      onDone(client);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }
  return (
    <main class="screen">
      <LanguageSwitch />
      <h1>{t('activate.title')}</h1>
      <p>{t('activate.intro')}</p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <label for="code">{t('activate.code')}</label>
        <input id="code" name="code" autocomplete="off" value={code} onInput={(e) => setCode((e.target as HTMLInputElement).value)} />
        <button type="submit" class="primary" disabled={busy || code.trim() === ''}>
          {t('activate.submit')}
        </button>
      </form>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
    </main>
  );
}

/** Whether the platform can be reached, kept up to date by the monitor's pings and every call's outcome. */
function useConnection(api: TerminalApi): { online: boolean; monitor: ConnectionMonitor } {
  const [monitor] = useState(() => new ConnectionMonitor({ ping: () => api.ping() }));
  const [online, setOnline] = useState(true);
  useEffect(() => {
    const off = monitor.subscribe(setOnline);
    monitor.start();
    // The browser knows first when the network goes or comes back: check at once.
    const check = () => void api.ping().then(() => monitor.reached(), () => monitor.unreachable());
    addEventListener('online', check);
    addEventListener('offline', check);
    return () => {
      off();
      monitor.dispose();
      removeEventListener('online', check);
      removeEventListener('offline', check);
    };
  }, [monitor]);
  return { online, monitor };
}

/** A charge typed by the cashier, sent with its client-made id until the platform has it. */
interface TypedCharge {
  amount: number;
  clientId: string;
  error?: string;
}

function Terminal({ api }: { api: TerminalApi }) {
  const [state, dispatch] = useReducer<State, Event>(step, initialState);
  const [info, setInfo] = useState<TerminalInfo>();
  const [progress, setProgress] = useState(0);
  const [charge, setCharge] = useState<TypedCharge>();
  const frames = useRef<CapturedFrame[]>([]);
  const video = useRef<HTMLVideoElement>(null);
  const camera = useRef<CameraSession>();
  const { online, monitor } = useConnection(api);

  useEffect(() => {
    api.me().then(setInfo, () => undefined);
  }, [api]);

  // A typed charge is sent until the platform answers: through a network loss it is sent again
  // (more slowly while offline), and its client-made id makes every resend the same intent.
  useEffect(() => {
    if (charge === undefined || charge.error !== undefined) return;
    let live = true;
    void (async () => {
      while (live) {
        try {
          const intent = await monitor.observe(api.createIntent(charge.amount, info?.currency ?? 'EUR', charge.clientId), isPlatformAnswer);
          if (!live) return;
          setCharge(undefined);
          return dispatch({ type: 'intent', intent });
        } catch (e) {
          if (!live) return;
          if (isPlatformAnswer(e)) return setCharge({ ...charge, error: errorText(e, info?.currency) });
          await new Promise((r) => setTimeout(r, monitor.isOnline ? 1_000 : 2_000));
        }
      }
    })();
    return () => {
      live = false;
    };
  }, [charge]);

  // Waiting: pick up an intent the till created for this terminal.
  useEffect(() => {
    if (state.screen !== 'idle') return;
    let live = true;
    const poll = async () => {
      while (live) {
        const intent = await monitor.observe(api.nextIntent(), isPlatformAnswer).catch(() => null);
        if (!live) return;
        if (intent) return dispatch({ type: 'intent', intent });
        await new Promise((r) => setTimeout(r, 1500));
      }
    };
    void poll();
    return () => {
      live = false;
    };
  }, [state.screen === 'idle', api]);

  // The camera is open while the face is looked for and the challenge runs.
  const cameraScreens = state.screen === 'scanning' || state.screen === 'challenge';
  useEffect(() => {
    if (!cameraScreens || !video.current) return;
    const session = new CameraSession(video.current);
    camera.current = session;
    return () => {
      session.stop();
      camera.current = undefined;
    };
  }, [cameraScreens]);

  useEffect(() => {
    if (state.screen !== 'scanning') return;
    const session = camera.current;
    if (!session) return;
    let live = true;
    (async () => {
      await session.start();
      await session.waitForSteadyFace((guidance) => live && dispatch({ type: 'guidance', guidance }), { timeoutMs: FACE_TIMEOUT_MS });
      if (!live) return;
      const { challenge } = await api.challenge(state.intent.id);
      if (live) dispatch({ type: 'challenge', challenge });
    })().catch((e: unknown) => {
      if (!live) return;
      if (e instanceof CaptureTimeout) return dispatch({ type: 'face_problem', problem: { kind: 'timeout', guidance: e.guidance } });
      if (e instanceof CameraError) return dispatch({ type: 'face_problem', problem: { kind: 'camera', problem: e.problem } });
      dispatch({ type: 'decision', decision: { outcome: 'retry', code: e instanceof DeviceApiError ? e.code : 'network', message: '' } });
    });
    return () => {
      live = false;
    };
  }, [state.screen === 'scanning']);

  useEffect(() => {
    if (state.screen !== 'challenge') return;
    const session = camera.current;
    if (!session) return;
    const attemptId = state.challenge.id;
    let live = true;
    setProgress(0);
    (async () => {
      frames.current = await session.burst((i) => setProgress(i + 1));
      if (!live) return;
      dispatch({ type: 'captured' });
      const decision = await api.capture(attemptId, frames.current);
      dispatch({ type: 'decision', decision });
    })().catch(() => dispatch({ type: 'decision', decision: { outcome: 'retry', code: 'network', message: '' } }));
    return () => {
      live = false;
    };
  }, [state.screen === 'challenge']);

  // Four digits typed: the same frames go again, with the digits that narrow the search.
  useEffect(() => {
    if (state.screen !== 'digits' || state.entered.length !== 4) return;
    api
      .capture(state.attemptId, frames.current, state.entered)
      .then((decision) => dispatch({ type: 'decision', decision }))
      .catch(() => dispatch({ type: 'decision', decision: { outcome: 'refused', code: 'network', message: '' } }));
  }, [state.screen === 'digits' && state.entered.length === 4]);

  // Six PIN digits typed: they go to the server once and are then forgotten with the screen.
  useEffect(() => {
    if (state.screen !== 'pin' || state.entered.length !== 6) return;
    api
      .pin(state.attemptId, state.entered)
      .then((decision) => dispatch({ type: 'decision', decision }))
      .catch(() => dispatch({ type: 'decision', decision: { outcome: 'refused', code: 'network', message: '' } }));
  }, [state.screen === 'pin' && state.entered.length === 6]);

  useEffect(() => {
    if (state.screen !== 'paying') return;
    const onRetry = (offline: boolean) => {
      if (offline) monitor.unreachable();
      dispatch({ type: 'retrying', offline });
    };
    const pay =
      state.via.method === 'face'
        ? api.confirm(state.via.attemptId, state.paymentId, state.via.join, onRetry)
        : api.payWithCode(state.intent.id, state.via.code, state.paymentId, onRetry);
    pay.then((answer) => {
      monitor.reached();
      frames.current = [];
      dispatch({ type: 'paid', outcome: answer.status, ...(answer.message ? { message: answer.message } : {}), ...(answer.code ? { code: answer.code } : {}) });
    });
  }, [state.screen === 'paying' && state.paymentId]);

  useEffect(() => {
    if (state.screen !== 'done') return;
    frames.current = [];
    const t = setTimeout(() => dispatch({ type: 'reset' }), 6000);
    return () => clearTimeout(t);
  }, [state.screen === 'done']);

  const currency = info?.currency ?? 'EUR';
  // A new language re-renders the screen in place, whatever step the payment is at.
  const [, setLocale] = useState(i18n.locale);
  useEffect(() => i18n.subscribe(setLocale), []);
  const cancel = () => {
    if (state.screen !== 'idle' && state.screen !== 'done') void api.cancel(state.intent.id).catch(() => undefined);
    dispatch({ type: 'cancel' });
  };
  const amount =
    state.screen === 'idle' ? null : state.screen === 'confirm' && state.decision.discount > 0 ? (
      <p class="amount">
        <del aria-label={t('amount.beforeCoupon')}>{money(state.intent.amount, state.intent.currency)}</del>{' '}
        <span aria-label={t('amount.due')}>{money(state.decision.amountDue, state.intent.currency)}</span>
      </p>
    ) : (
      <p class="amount">{money((state.screen === 'paying' || state.screen === 'done' ? state.amountDue : undefined) ?? state.intent.amount, state.intent.currency)}</p>
    );
  const due = state.screen === 'confirm' ? money(state.decision.amountDue, state.intent.currency) : '';
  const intent = state.screen === 'idle' ? undefined : state.intent;

  return (
    <main class={`screen screen-${state.screen}`} data-screen={state.screen}>
      <header>
        <span>{info?.name ?? 'Facepay'}</span>
        {!online && (
          <span class="offline" role="status" data-testid="offline">
            {t('status.offline')}
          </span>
        )}
        {(state.screen === 'idle' || state.screen === 'amount') && <LanguageSwitch />}
      </header>
      {!online && <p class="offline-note">{t('status.offlineNote')}</p>}
      {amount}
      {intent && (intent.description || intent.reference) && (
        <p class="order" data-testid="order-description">
          {intent.description}
          {intent.description && intent.reference ? ' · ' : ''}
          {intent.reference && <span class="reference">{intent.reference}</span>}
        </p>
      )}
      {state.screen === 'idle' && (
        <section>
          <h1>{online ? t('idle.ready') : t('idle.offline')}</h1>
          <p>{online ? t('idle.waiting') : t('idle.waitingConnection')}</p>
          <p class="typed" aria-live="polite">
            {money(charge ? charge.amount : state.typed === '' ? 0 : Number(state.typed), currency)}
          </p>
          {charge === undefined ? (
            <>
              <Keypad label={t('idle.amount')} onKey={(key) => dispatch({ type: 'key', key })} />
              <button type="button" class="primary" disabled={state.typed === ''} onClick={() => setCharge({ amount: Number(state.typed), clientId: newId('tmi') })}>
                {t('idle.charge')}
              </button>
            </>
          ) : (
            <>
              <p role="status" data-testid="charge-pending">
                {charge.error ?? (online ? t('idle.sending') : t('idle.notSent'))}
              </p>
              <button type="button" onClick={() => setCharge(undefined)}>
                {charge.error ? t('idle.back') : t('idle.dontCharge')}
              </button>
            </>
          )}
        </section>
      )}
      {state.screen === 'amount' && (
        <section>
          <button type="button" class="primary big" onClick={() => dispatch({ type: 'start_face' })}>
            {t('pay.face')}
          </button>
          <button type="button" onClick={() => dispatch({ type: 'other_way' })}>
            {t('pay.otherWay')}
          </button>
        </section>
      )}
      {cameraScreens && (
        <section>
          <video ref={video} class="camera" muted playsInline aria-hidden="true" />
          <p class="guidance" role="status" aria-live="polite" data-guidance={state.screen === 'scanning' ? state.guidance : undefined}>
            {state.screen === 'scanning' ? t(`capture.guidance.${state.guidance}`) : t(`capture.challenge.${state.challenge.kind}`)}
          </p>
          {state.screen === 'scanning' && (state.noticeCode || state.notice) && <p class="notice">{state.noticeCode ? codeText(state.noticeCode) : t('error.network')}</p>}
          {state.screen === 'challenge' && <progress max={STREAM.count} value={progress} aria-label={t('scan.capturing')} />}
          <button type="button" onClick={() => dispatch({ type: 'other_way' })}>
            {t('pay.otherWay')}
          </button>
        </section>
      )}
      {state.screen === 'face_problem' && (
        <section>
          <h1>{t('scan.problemTitle')}</h1>
          <p role="alert" data-testid="face-problem">
            {faceProblemText(state.problem)}
          </p>
          <button type="button" class="primary big" onClick={() => dispatch({ type: 'start_face' })}>
            {t('capture.retry')}
          </button>
          <button type="button" onClick={() => dispatch({ type: 'other_way' })}>
            {t('pay.otherWay')}
          </button>
        </section>
      )}
      {state.screen === 'deciding' && <p role="status">{t('deciding.checking')}</p>}
      {state.screen === 'confirm' && (
        <section>
          <h1>{t('confirm.hello', { name: state.decision.maskedName })}</h1>
          {state.decision.coupon && (
            <p class="coupon">
              {state.decision.coupon.title}: −{money(state.decision.discount, state.intent.currency)}
            </p>
          )}
          {state.decision.offers.length > 0 && (
            <ul class="offers" aria-label={t('confirm.offers')}>
              {state.decision.offers.map((o) => (
                <li key={o.id}>{o.title}</li>
              ))}
            </ul>
          )}
          {state.decision.membership && (
            <div class="join" role="group" aria-label={t('confirm.joinGroup', { programme: state.decision.membership.programme })}>
              <p>{t('confirm.joinText', { programme: state.decision.membership.programme })}</p>
              <ul aria-label={t('confirm.sharedOnJoining')}>
                {state.decision.membership.fields.map((f) => (
                  <li key={f}>{fieldText(i18n, f)}</li>
                ))}
              </ul>
              <button type="button" class="primary big" onClick={() => dispatch({ type: 'confirm', paymentId: newId('tpay'), join: true })}>
                {t('confirm.joinAndPay', { amount: due })}
              </button>
            </div>
          )}
          <button type="button" class={state.decision.membership ? '' : 'primary big'} onClick={() => dispatch({ type: 'confirm', paymentId: newId('tpay') })}>
            {state.decision.membership ? t('confirm.payWithoutJoining', { amount: due }) : t('confirm.pay', { amount: due })}
          </button>
          <button type="button" onClick={() => dispatch({ type: 'other_way' })}>
            {t('confirm.notMe')}
          </button>
        </section>
      )}
      {state.screen === 'digits' && (
        <section>
          <h1>{t('digits.title')}</h1>
          <p class="digits" aria-live="polite">
            {[0, 1, 2, 3].map((i) => (i < state.entered.length ? '●' : '○')).join(' ')}
          </p>
          <p>{t('digits.left', { count: state.attemptsLeft })}</p>
          <Keypad label={t('digits.keypad')} onKey={(key) => dispatch({ type: 'key', key })} />
          <button type="button" onClick={() => dispatch({ type: 'other_way' })}>
            {t('pay.otherWay')}
          </button>
        </section>
      )}
      {state.screen === 'pin' && (
        <section>
          <h1>{t('pin.title')}</h1>
          <p>{t('pin.text')}</p>
          <p class="digits" aria-live="polite">
            {[0, 1, 2, 3, 4, 5].map((i) => (i < state.entered.length ? '●' : '○')).join(' ')}
          </p>
          <p>{t('digits.left', { count: state.attemptsLeft })}</p>
          <Keypad label={t('pin.keypad')} onKey={(key) => dispatch({ type: 'key', key })} />
          <button type="button" onClick={() => dispatch({ type: 'other_way' })}>
            {t('pay.otherWay')}
          </button>
        </section>
      )}
      {state.screen === 'other_way' && <OtherWay state={state} dispatch={dispatch} />}
      {state.screen === 'paying' && (
        <section>
          <p role="status">{t('paying.paying')}</p>
          {state.offline && <p class="notice">{t('paying.offline')}</p>}
        </section>
      )}
      {state.screen === 'done' && (
        <section class={`outcome outcome-${state.outcome}`}>
          <h1>{state.outcome === 'succeeded' ? t('done.paid') : state.outcome === 'cancelled' ? t('done.cancelled') : t('done.notPaid')}</h1>
          <p role="status">
            {state.outcome === 'succeeded' ? t('done.thanks') : state.outcome === 'cancelled' ? t('done.cancelledText') : state.code ? codeText(state.code, state.intent.currency) : t('done.failed')}
          </p>
          <button type="button" onClick={() => dispatch({ type: 'reset' })}>
            {t('done.next')}
          </button>
        </section>
      )}
      {state.screen !== 'idle' && state.screen !== 'done' && state.screen !== 'paying' && (
        <button type="button" class="cancel" onClick={cancel}>
          {t('action.cancel')}
        </button>
      )}
    </main>
  );
}

function OtherWay({ state, dispatch }: { state: Extract<State, { screen: 'other_way' }>; dispatch: (e: Event) => void }) {
  const [code, setCode] = useState(state.rejectedCode ?? '');
  const [scanning, setScanning] = useState(true);
  const video = useRef<HTMLVideoElement>(null);
  const digits = code.replace(/\D/g, '');
  // The camera looks for the QR code of a pay code while the code can also be typed.
  useEffect(() => {
    if (!video.current) return;
    const stop = new AbortController();
    scanPayCode(video.current, stop.signal).then(
      (scanned) => scanned !== undefined && !stop.signal.aborted && dispatch({ type: 'pay_code', code: scanned, paymentId: newId('tpay') }),
      () => setScanning(false),
    );
    return () => stop.abort();
  }, []);
  return (
    <section>
      {state.reason === 'pay_code_rejected' && <h1>{t('otherWay.tryAgain')}</h1>}
      <p role="alert">{state.reason === 'refused' && state.message !== undefined ? (i18n.lookup(`error.${state.code}`) ?? t('otherWay.refused')) : t(`otherWay.${state.reason}`)}</p>
      {scanning && (
        <>
          <video ref={video} class="camera scan" muted playsInline aria-hidden="true" />
          <p class="guidance">{t('otherWay.scanHint')}</p>
        </>
      )}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          dispatch({ type: 'pay_code', code: digits, paymentId: newId('tpay') });
        }}
      >
        <label for="pay-code">{t('otherWay.code')}</label>
        <input id="pay-code" inputMode="numeric" autocomplete="off" value={code} onInput={(e) => setCode((e.target as HTMLInputElement).value)} />
        <button type="submit" class="primary" disabled={digits.length !== 12}>
          {t('otherWay.payWithCode')}
        </button>
      </form>
      {(state.reason === 'shopper_choice' || state.reason === 'pay_code_rejected') && (
        <button type="button" onClick={() => dispatch({ type: 'start_face' })}>
          {t('otherWay.faceAgain')}
        </button>
      )}
    </section>
  );
}

function Root() {
  const [client, setClient] = useState<DeviceClient | null | undefined>(undefined);
  useEffect(() => {
    DeviceClient.fromStore(keyStore, { baseUrl: location.origin }).then(
      (c) => setClient(c ?? null),
      () => setClient(null),
    );
  }, []);
  const [, setLocale] = useState(i18n.locale);
  useEffect(() => i18n.subscribe(setLocale), []);
  if (client === undefined) return <main class="screen">{t('app.starting')}</main>;
  if (client === null) return <Activate onDone={setClient} />;
  return <Terminal api={terminalApi(client)} />;
}

const root = document.getElementById('app');
if (root) render(<Root />, root);
