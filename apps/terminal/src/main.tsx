import { render } from 'preact';
import { useEffect, useReducer, useRef, useState } from 'preact/hooks';
import { activateDevice, DeviceClient, IndexedDbKeyStore } from '@facepay/device-sdk';
import { CameraSession, STREAM, CHALLENGE_TEXT, GUIDANCE_TEXT, type CapturedFrame } from '@facepay/face-capture';
import { isPlatformAnswer, terminalApi, type TerminalApi, type TerminalInfo } from './api.ts';
import { ConnectionMonitor } from './connection.ts';
import { formatMoney, MEMBER_FIELD_LABELS, type MemberField } from '@facepay/web-common';
import { initialState, OTHER_WAY_MESSAGES, step, type Event, type State } from './flow.ts';
import { scanPayCode } from './qr.ts';
import './style.css';

const keyStore = new IndexedDbKeyStore();

function newId(prefix: string): string {
  return `${prefix}_${crypto.randomUUID().replace(/-/g, '')}`;
}

function Keypad({ onKey, label }: { onKey: (key: string) => void; label: string }) {
  const keys = ['1', '2', '3', '4', '5', '6', '7', '8', '9', 'clear', '0', 'back'];
  const text = (k: string) => (k === 'back' ? '⌫' : k === 'clear' ? 'C' : k);
  const aria = (k: string) => (k === 'back' ? 'delete last digit' : k === 'clear' ? 'clear' : k);
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
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }
  return (
    <main class="screen">
      <h1>Set up this terminal</h1>
      <p>Enter the activation code from the merchant console.</p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <label for="code">Activation code</label>
        <input id="code" name="code" autocomplete="off" value={code} onInput={(e) => setCode((e.target as HTMLInputElement).value)} />
        <button type="submit" class="primary" disabled={busy || code.trim() === ''}>
          Activate
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
          if (isPlatformAnswer(e)) return setCharge({ ...charge, error: e instanceof Error ? e.message : String(e) });
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
      await session.waitForSteadyFace((guidance) => live && dispatch({ type: 'guidance', guidance }));
      if (!live) return;
      const { challenge } = await api.challenge(state.intent.id);
      if (live) dispatch({ type: 'challenge', challenge });
    })().catch(() => live && dispatch({ type: 'decision', decision: { outcome: 'retry', code: 'camera', message: 'The camera is not available.' } }));
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
    })().catch(() => dispatch({ type: 'decision', decision: { outcome: 'retry', code: 'network', message: 'The connection failed. Please try again.' } }));
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
      .catch(() => dispatch({ type: 'decision', decision: { outcome: 'refused', code: 'network', message: 'The connection failed.' } }));
  }, [state.screen === 'digits' && state.entered.length === 4]);

  // Six PIN digits typed: they go to the server once and are then forgotten with the screen.
  useEffect(() => {
    if (state.screen !== 'pin' || state.entered.length !== 6) return;
    api
      .pin(state.attemptId, state.entered)
      .then((decision) => dispatch({ type: 'decision', decision }))
      .catch(() => dispatch({ type: 'decision', decision: { outcome: 'refused', code: 'network', message: 'The connection failed.' } }));
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
  const cancel = () => {
    if (state.screen !== 'idle' && state.screen !== 'done') void api.cancel(state.intent.id).catch(() => undefined);
    dispatch({ type: 'cancel' });
  };
  const amount =
    state.screen === 'idle' ? null : state.screen === 'confirm' && state.decision.discount > 0 ? (
      <p class="amount">
        <del aria-label="before the coupon">{formatMoney(state.intent.amount, state.intent.currency)}</del>{' '}
        <span aria-label="amount due">{formatMoney(state.decision.amountDue, state.intent.currency)}</span>
      </p>
    ) : (
      <p class="amount">{formatMoney((state.screen === 'paying' || state.screen === 'done' ? state.amountDue : undefined) ?? state.intent.amount, state.intent.currency)}</p>
    );
  const due = state.screen === 'confirm' ? formatMoney(state.decision.amountDue, state.intent.currency) : '';
  const intent = state.screen === 'idle' ? undefined : state.intent;

  return (
    <main class={`screen screen-${state.screen}`} data-screen={state.screen}>
      <header>
        <span>{info?.name ?? 'Facepay'}</span>
        {!online && (
          <span class="offline" role="status" data-testid="offline">
            Offline
          </span>
        )}
      </header>
      {!online && <p class="offline-note">The platform cannot be reached. The terminal keeps trying; nothing is charged twice.</p>}
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
          <h1>{online ? 'Ready' : 'Offline'}</h1>
          <p>{online ? 'Waiting for the till, or type an amount.' : 'Waiting for the connection to come back.'}</p>
          <p class="typed" aria-live="polite">
            {formatMoney(charge ? charge.amount : state.typed === '' ? 0 : Number(state.typed), currency)}
          </p>
          {charge === undefined ? (
            <>
              <Keypad label="amount" onKey={(key) => dispatch({ type: 'key', key })} />
              <button type="button" class="primary" disabled={state.typed === ''} onClick={() => setCharge({ amount: Number(state.typed), clientId: newId('tmi') })}>
                Charge
              </button>
            </>
          ) : (
            <>
              <p role="status" data-testid="charge-pending">
                {charge.error ?? (online ? 'Sending the charge…' : 'Not sent yet: the charge goes as soon as the connection is back.')}
              </p>
              <button type="button" onClick={() => setCharge(undefined)}>
                {charge.error ? 'Back' : "Don't charge"}
              </button>
            </>
          )}
        </section>
      )}
      {state.screen === 'amount' && (
        <section>
          <button type="button" class="primary big" onClick={() => dispatch({ type: 'start_face' })}>
            Pay with your face
          </button>
          <button type="button" onClick={() => dispatch({ type: 'other_way' })}>
            Pay another way
          </button>
        </section>
      )}
      {cameraScreens && (
        <section>
          <video ref={video} class="camera" muted playsInline aria-hidden="true" />
          <p class="guidance" role="status" aria-live="polite">
            {state.screen === 'scanning' ? GUIDANCE_TEXT[state.guidance] : CHALLENGE_TEXT[state.challenge.kind]}
          </p>
          {state.screen === 'scanning' && state.notice && <p class="notice">{state.notice}</p>}
          {state.screen === 'challenge' && <progress max={STREAM.count} value={progress} aria-label="capturing" />}
          <button type="button" onClick={() => dispatch({ type: 'other_way' })}>
            Pay another way
          </button>
        </section>
      )}
      {state.screen === 'deciding' && <p role="status">Checking…</p>}
      {state.screen === 'confirm' && (
        <section>
          <h1>Hello, {state.decision.maskedName}</h1>
          {state.decision.coupon && (
            <p class="coupon">
              {state.decision.coupon.title}: −{formatMoney(state.decision.discount, state.intent.currency)}
            </p>
          )}
          {state.decision.offers.length > 0 && (
            <ul class="offers" aria-label="your offers">
              {state.decision.offers.map((o) => (
                <li key={o.id}>{o.title}</li>
              ))}
            </ul>
          )}
          {state.decision.membership && (
            <div class="join" role="group" aria-label={`Join ${state.decision.membership.programme}`}>
              <p>Become a member of {state.decision.membership.programme}. It will see your:</p>
              <ul aria-label="shared on joining">
                {state.decision.membership.fields.map((f) => (
                  <li key={f}>{MEMBER_FIELD_LABELS[f as MemberField] ?? f}</li>
                ))}
              </ul>
              <button type="button" class="primary big" onClick={() => dispatch({ type: 'confirm', paymentId: newId('tpay'), join: true })}>
                Join and pay {due}
              </button>
            </div>
          )}
          <button type="button" class={state.decision.membership ? '' : 'primary big'} onClick={() => dispatch({ type: 'confirm', paymentId: newId('tpay') })}>
            {state.decision.membership ? `Pay ${due} without joining` : `Pay ${due}`}
          </button>
          <button type="button" onClick={() => dispatch({ type: 'other_way' })}>
            Not me
          </button>
        </section>
      )}
      {state.screen === 'digits' && (
        <section>
          <h1>Last four digits of your phone number</h1>
          <p class="digits" aria-live="polite">
            {[0, 1, 2, 3].map((i) => (i < state.entered.length ? '●' : '○')).join(' ')}
          </p>
          <p>{state.attemptsLeft} {state.attemptsLeft === 1 ? 'try' : 'tries'} left</p>
          <Keypad label="phone digits" onKey={(key) => dispatch({ type: 'key', key })} />
          <button type="button" onClick={() => dispatch({ type: 'other_way' })}>
            Pay another way
          </button>
        </section>
      )}
      {state.screen === 'pin' && (
        <section>
          <h1>Your face-pay PIN</h1>
          <p>This payment needs the 6-digit PIN you chose in the Facepay app.</p>
          <p class="digits" aria-live="polite">
            {[0, 1, 2, 3, 4, 5].map((i) => (i < state.entered.length ? '●' : '○')).join(' ')}
          </p>
          <p>{state.attemptsLeft} {state.attemptsLeft === 1 ? 'try' : 'tries'} left</p>
          <Keypad label="face-pay PIN" onKey={(key) => dispatch({ type: 'key', key })} />
          <button type="button" onClick={() => dispatch({ type: 'other_way' })}>
            Pay another way
          </button>
        </section>
      )}
      {state.screen === 'other_way' && <OtherWay state={state} dispatch={dispatch} />}
      {state.screen === 'paying' && (
        <section>
          <p role="status">Paying…</p>
          {state.offline && <p class="notice">Connection lost. Still trying; do not pay twice.</p>}
        </section>
      )}
      {state.screen === 'done' && (
        <section class={`outcome outcome-${state.outcome}`}>
          <h1>{state.outcome === 'succeeded' ? '✓ Paid' : state.outcome === 'cancelled' ? 'Cancelled' : 'Not paid'}</h1>
          <p role="status">{state.message}</p>
          <button type="button" onClick={() => dispatch({ type: 'reset' })}>
            Next customer
          </button>
        </section>
      )}
      {state.screen !== 'idle' && state.screen !== 'done' && state.screen !== 'paying' && (
        <button type="button" class="cancel" onClick={cancel}>
          Cancel
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
      {state.reason === 'pay_code_rejected' && <h1>Try again</h1>}
      <p role="alert">{state.message ?? OTHER_WAY_MESSAGES[state.reason]}</p>
      {scanning && (
        <>
          <video ref={video} class="camera scan" muted playsInline aria-hidden="true" />
          <p class="guidance">Show the QR code of your pay code to the camera, or type the code.</p>
        </>
      )}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          dispatch({ type: 'pay_code', code: digits, paymentId: newId('tpay') });
        }}
      >
        <label for="pay-code">Pay code</label>
        <input id="pay-code" inputMode="numeric" autocomplete="off" value={code} onInput={(e) => setCode((e.target as HTMLInputElement).value)} />
        <button type="submit" class="primary" disabled={digits.length !== 12}>
          Pay with code
        </button>
      </form>
      {(state.reason === 'shopper_choice' || state.reason === 'pay_code_rejected') && (
        <button type="button" onClick={() => dispatch({ type: 'start_face' })}>
          Try my face again
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
  if (client === undefined) return <main class="screen">Starting…</main>;
  if (client === null) return <Activate onDone={setClient} />;
  return <Terminal api={terminalApi(client)} />;
}

const root = document.getElementById('app');
if (root) render(<Root />, root);
