/**
 * E-mail through an outbox: `record` writes a message inside the caller's transaction, the worker
 * (`tick`, run by `start`) sends what is due through the transport and retries failures with
 * backoff. The transport is a port: SMTP by nodemailer (smtp.ts) or the log in development.
 */
import type { Clock, IdGenerator } from '../platform/index.ts';
import type { Db, SqlExecutor } from '../storage/index.ts';
import { mailRepo as repo } from './repo.ts';

export interface Mail {
  to: string;
  subject: string;
  /** Plain text: the messages are short, and text is what every client shows the same. */
  text: string;
}

export interface MailTransport {
  send(m: Mail): Promise<void>;
}

export interface MailDeps {
  db: Db;
  clock: Clock;
  ids: IdGenerator;
  transport: MailTransport;
  /** Gives up on a message after this many attempts (default 8, about 4 hours of backoff). */
  maxAttempts?: number;
}

const BACKOFF_MS = [10_000, 60_000, 5 * 60_000, 15 * 60_000, 30 * 60_000, 60 * 60_000, 2 * 60 * 60_000];
/** A claimed message is someone's for this long; a sender that died gives it back by timing out. */
const CLAIM_MS = 5 * 60_000;

export function createMailService(deps: MailDeps) {
  const { db, clock, ids, transport } = deps;
  const maxAttempts = deps.maxAttempts ?? 8;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();

  async function tick(): Promise<{ sent: number; failed: number }> {
    let sent = 0;
    let failed = 0;
    const now = clock.now().getTime();
    for (const m of await repo.due(db, now, 20)) {
      if (!(await repo.claim(db, m.id, m.attempts, now + CLAIM_MS))) continue;
      try {
        await transport.send({ to: m.to_address, subject: m.subject, text: m.body });
        await repo.sent(db, m.id, clock.now().getTime());
        sent++;
      } catch (e) {
        failed++;
        const attempt = m.attempts + 1;
        const retryAt = attempt >= maxAttempts ? null : clock.now().getTime() + BACKOFF_MS[Math.min(attempt - 1, BACKOFF_MS.length - 1)]!;
        await repo.failed(db, m.id, String((e as Error).message ?? e).slice(0, 500), retryAt);
      }
    }
    return { sent, failed };
  }

  return {
    /** Writes the message inside the caller's transaction: it is sent only if the change commits. */
    async record(tx: SqlExecutor, m: Mail): Promise<string> {
      const id = ids.next('mail');
      await repo.insert(tx, { id, to: m.to, subject: m.subject, body: m.text, now: clock.now().getTime() });
      return id;
    },
    tick,
    pending: () => repo.pending(db),
    start(intervalMs: number, onError: (e: unknown) => void): void {
      const loop = (): void => {
        running = tick()
          .catch(onError)
          .finally(() => {
            if (timer !== undefined) timer = setTimeout(loop, intervalMs).unref();
          });
      };
      timer = setTimeout(loop, 0).unref();
    },
    async stop(): Promise<void> {
      const t = timer;
      timer = undefined;
      if (t) clearTimeout(t);
      await running;
    },
  };
}

export type MailService = ReturnType<typeof createMailService>;
