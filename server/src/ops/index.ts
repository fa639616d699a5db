/** Running Facepay for real: TLS for the shop's network, the addresses to print, backups. */
export { CA_DAYS, SERVER_CERT_DAYS, TLS_FILES, describeCertificate, makeLocalCa, pemToDer, spkiHash, writeLocalCa } from './tls.ts';
export type { CertificateInfo, LocalCaFiles, LocalCaRequest } from './tls.ts';
export { originOf, reachableHosts } from './addresses.ts';
export { createRedirectServer } from './redirect.ts';
export type { RedirectOptions } from './redirect.ts';
export { backup, restore, verifyBackup, DB_FILE, MANIFEST } from './backup.ts';
export type { Manifest, ManifestFile } from './backup.ts';
