import nodemailer from 'nodemailer';
import type { MailTransport } from './service.ts';

/** SMTP through nodemailer, from a URL such as smtps://user:pass@mail.example.com:465 (FACEPAY_SMTP_URL). */
export function smtpTransport(url: string, from: string): MailTransport {
  const t = nodemailer.createTransport(url);
  return {
    async send(m) {
      await t.sendMail({ from, to: m.to, subject: m.subject, text: m.text });
    },
  };
}

/**
 * Without SMTP, in development: each message goes to the log, links included, so a reset can be
 * finished from the terminal. Never for production (the links sign people in).
 */
export function logTransport(log: (obj: Record<string, unknown>, msg: string) => void): MailTransport {
  return {
    async send(m) {
      log({ to: m.to, subject: m.subject, text: m.text }, 'mail (FACEPAY_SMTP_URL is not set: written to the log)');
    },
  };
}
