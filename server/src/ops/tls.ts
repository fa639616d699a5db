/**
 * A local certificate authority for the shop's network: browsers give the camera and WebCrypto
 * only to https:// pages (or localhost), so a tablet that opens the terminal at shop.lan needs a
 * certificate it trusts. `makeLocalCa` makes a CA and one server certificate for the names and
 * addresses given; the CA's certificate is installed once on each tablet.
 */
import forge from 'node-forge';
import { X509Certificate, createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { DomainError } from '../platform/index.ts';

export interface LocalCaRequest {
  /** DNS names the tablets open, e.g. shop.lan. */
  hosts: string[];
  /** IPv4 or IPv6 addresses the tablets may open directly. */
  ips: string[];
  now: Date;
}

export interface LocalCaFiles {
  caPem: string;
  certPem: string;
  keyPem: string;
}

const DAY = 86_400_000;
/**
 * Apple's devices refuse a TLS server certificate valid for longer than 825 days, even under a
 * CA the user installed; the CA itself may live longer.
 */
export const SERVER_CERT_DAYS = 825;
export const CA_DAYS = 3650;

const HOST_NAME = /^(?=.{1,253}$)(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*$/;

function rsaKeys(): { privateKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey; pem: string } {
  // Node makes the key (native, fast); forge only signs with it.
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const priv = forge.pki.privateKeyFromPem(pem) as forge.pki.rsa.PrivateKey;
  return { privateKey: priv, publicKey: forge.pki.setRsaPublicKey(priv.n, priv.e), pem };
}

/** A positive serial number of 16 random bytes (the top bit cleared, as DER integers are signed). */
function serial(): string {
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f;
  return b.toString('hex');
}

export function makeLocalCa(req: LocalCaRequest): LocalCaFiles {
  const hosts = [...new Set(req.hosts.map((h) => h.trim().toLowerCase()).filter((h) => h.length > 0))];
  const ips = [...new Set(req.ips.map((a) => a.trim()).filter((a) => a.length > 0))];
  for (const h of hosts) if (!HOST_NAME.test(h) || isIP(h) !== 0) throw new DomainError('invalid', 'tls_bad_host', `"${h}" is not a host name (addresses go in --ip)`);
  for (const a of ips) if (isIP(a) === 0) throw new DomainError('invalid', 'tls_bad_ip', `"${a}" is not an IP address`);
  if (hosts.length === 0 && ips.length === 0) throw new DomainError('invalid', 'tls_no_names', 'give at least one --host or --ip');
  const first = hosts[0] ?? ips[0]!;
  // The server's own machine opens it as localhost too (an operator at the back office).
  if (!hosts.includes('localhost')) hosts.push('localhost');
  if (!ips.includes('127.0.0.1')) ips.push('127.0.0.1');

  const ca = rsaKeys();
  const caCert = forge.pki.createCertificate();
  caCert.publicKey = ca.publicKey;
  caCert.serialNumber = serial();
  caCert.validity.notBefore = new Date(req.now.getTime() - DAY);
  caCert.validity.notAfter = new Date(req.now.getTime() + CA_DAYS * DAY);
  const caName = [
    { name: 'commonName', value: `Facepay local CA for ${first} (${req.now.toISOString().slice(0, 10)})` },
    { name: 'organizationName', value: 'Facepay (local)' },
  ];
  caCert.setSubject(caName);
  caCert.setIssuer(caName);
  caCert.setExtensions([
    // pathLenConstraint 0: this CA signs server certificates only, never another CA.
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  caCert.sign(ca.privateKey, forge.md.sha256.create());

  const server = rsaKeys();
  const cert = forge.pki.createCertificate();
  cert.publicKey = server.publicKey;
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(req.now.getTime() - DAY);
  cert.validity.notAfter = new Date(req.now.getTime() + SERVER_CERT_DAYS * DAY);
  cert.setSubject([{ name: 'commonName', value: first }]);
  cert.setIssuer(caName);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    // Browsers read only the subject alternative names: type 2 is a DNS name, 7 an IP address.
    { name: 'subjectAltName', altNames: [...hosts.map((value) => ({ type: 2, value })), ...ips.map((ip) => ({ type: 7, ip }))] },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(ca.privateKey, forge.md.sha256.create());
  // The CA's private key is dropped here: a stolen data directory then cannot mint certificates
  // that the shop's tablets would trust for other sites. Renewing means a new CA, installed again.
  return { caPem: forge.pki.certificateToPem(caCert), certPem: forge.pki.certificateToPem(cert), keyPem: server.pem };
}

export const TLS_FILES = { ca: 'ca.pem', cert: 'server.pem', key: 'server-key.pem' } as const;

/** Writes the three files into `dir` (created 0700), each readable by this user only; refuses to overwrite unless `force`. */
export function writeLocalCa(dir: string, files: LocalCaFiles, force = false): string[] {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const out: [string, string][] = [
    [TLS_FILES.ca, files.caPem],
    [TLS_FILES.cert, files.certPem],
    [TLS_FILES.key, files.keyPem],
  ];
  const paths = out.map(([name]) => join(dir, name));
  if (!force) {
    const there = paths.filter((p) => existsSync(p));
    if (there.length > 0) throw new DomainError('conflict', 'tls_files_exist', `${there.join(', ')} already exist (--force replaces them; tablets must then install the new CA)`);
  }
  for (const [name, text] of out) {
    const p = join(dir, name);
    writeFileSync(p, text, { mode: 0o600 });
    // The mode given to writeFileSync only applies to a new file.
    chmodSync(p, 0o600);
  }
  return paths;
}

export interface CertificateInfo {
  dnsNames: string[];
  ips: string[];
  validTo: Date;
  /** SHA-256 of the DER certificate, colon-separated hex as phones show it. */
  sha256: string;
}

export function describeCertificate(pem: string | Buffer): CertificateInfo {
  const c = new X509Certificate(pem);
  const alt = (c.subjectAltName ?? '').split(/,\s*/).filter((s) => s.length > 0);
  return {
    dnsNames: alt.filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4).toLowerCase()),
    ips: alt.filter((s) => s.startsWith('IP Address:')).map((s) => s.slice('IP Address:'.length)),
    validTo: new Date(c.validTo),
    sha256: c.fingerprint256,
  };
}

/** The base64 SHA-256 of a certificate's public key, as Chromium's --ignore-certificate-errors-spki-list takes it. */
export function spkiHash(pem: string | Buffer): string {
  const der = new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64');
}

/** The DER form of a PEM certificate (what Android and iPadOS install most readily as a .crt). */
export function pemToDer(pem: string | Buffer): Buffer {
  return new X509Certificate(pem).raw;
}

export function readPem(file: string): Buffer {
  return readFileSync(file);
}
