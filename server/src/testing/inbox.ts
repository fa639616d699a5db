/**
 * A real SMTP server in the test's process: the platform's mail crosses a socket as it would to a
 * relay, and the test reads what arrived (smtp-server, the counterpart of nodemailer).
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface Received {
  to: string[];
  raw: string;
  text: string;
}

/** The body of a message as nodemailer wrote it: quoted-printable undone. */
export function bodyOf(raw: string): string {
  const [head = '', ...rest] = raw.split(/\r?\n\r?\n/);
  const body = rest.join('\n\n');
  if (!/content-transfer-encoding:\s*quoted-printable/i.test(head)) return body;
  return body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

export interface Inbox {
  /** smtp://127.0.0.1:PORT, for FACEPAY_SMTP_URL. */
  url: string;
  messages: Received[];
  /** The first link in the newest message to `to` that matches `pattern` (its first group, or the whole match). */
  link(to: string, pattern: RegExp): string | undefined;
  close(): Promise<void>;
}

export async function startInbox(): Promise<Inbox> {
  const messages: Received[] = [];
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, done) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        messages.push({ to: session.envelope.rcptTo.map((r) => r.address), raw, text: bodyOf(raw) });
        done();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  const port = (smtp.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    link(to, pattern) {
      const m = [...messages].reverse().find((x) => x.to.includes(to) && pattern.test(x.text));
      const found = m && pattern.exec(m.text);
      return found ? (found[1] ?? found[0]) : undefined;
    },
    close: () => new Promise<void>((resolve) => smtp.close(() => resolve())),
  };
}
