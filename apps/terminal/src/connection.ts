/**
 * Whether the terminal can reach the platform, so that it can say so: a terminal that still says
 * "Ready" with the server gone makes a cashier type a sale that goes nowhere. It pings at an
 * interval (faster while offline, so the sign clears soon after the network returns), and every
 * other call the terminal makes reports its own success or network failure here too. Nothing in a
 * payment depends on it: payments retry with their client-made ids whatever this says.
 */
export interface ConnectionDeps {
  /** Resolves when the platform answered (any answer: the network works); rejects when it could not be reached. */
  ping: () => Promise<void>;
  /** How long to wait between pings while online and while offline. */
  onlineIntervalMs?: number;
  offlineIntervalMs?: number;
  /** Consecutive failures before the terminal says it is offline (one lost packet is not an outage). */
  failuresToOffline?: number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

export type Listener = (online: boolean) => void;

function defaultSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });
}

export class ConnectionMonitor {
  private online = true;
  private failures = 0;
  private readonly listeners = new Set<Listener>();
  private stop?: AbortController;
  private wake?: () => void;

  constructor(private readonly deps: ConnectionDeps) {}

  get isOnline(): boolean {
    return this.online;
  }

  subscribe(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** A call reached the platform (whatever it answered). */
  reached(): void {
    this.failures = 0;
    this.set(true);
  }

  /** A call could not reach the platform. */
  unreachable(): void {
    this.failures++;
    if (this.failures >= (this.deps.failuresToOffline ?? 2)) this.set(false);
    // Check again at once rather than at the next tick of the interval.
    this.wake?.();
  }

  /** Runs `call`, reporting a network failure (a thrown error that is not the platform's answer) as unreachable. */
  async observe<T>(call: Promise<T>, isAnswer: (e: unknown) => boolean): Promise<T> {
    try {
      const v = await call;
      this.reached();
      return v;
    } catch (e) {
      if (isAnswer(e)) this.reached();
      else this.unreachable();
      throw e;
    }
  }

  start(): void {
    if (this.stop) return;
    const stop = (this.stop = new AbortController());
    const sleep = this.deps.sleep ?? defaultSleep;
    void (async () => {
      while (!stop.signal.aborted) {
        try {
          await this.deps.ping();
          this.reached();
        } catch {
          this.unreachable();
        }
        const pause = new AbortController();
        this.wake = () => pause.abort();
        stop.signal.addEventListener('abort', () => pause.abort(), { once: true });
        await sleep(this.online ? (this.deps.onlineIntervalMs ?? 5_000) : (this.deps.offlineIntervalMs ?? 1_500), pause.signal);
      }
    })();
  }

  dispose(): void {
    this.stop?.abort();
    this.stop = undefined;
    this.listeners.clear();
  }

  private set(online: boolean): void {
    if (online === this.online) return;
    this.online = online;
    for (const fn of this.listeners) fn(online);
  }
}
