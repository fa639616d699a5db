export { mailMigrations } from './migrations.ts';
export { createMailService } from './service.ts';
export type { Mail, MailDeps, MailService, MailTransport } from './service.ts';
export { logTransport, smtpTransport } from './smtp.ts';
