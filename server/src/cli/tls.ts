/**
 * `facepay tls init --host NAME... --ip ADDRESS... [--out DIR] [--force]`: a local certificate
 * authority and a server certificate for the shop's network, for FACEPAY_TLS_CERT and _KEY.
 */
import { loadConfig, ConfigError } from '../config/index.ts';
import { describeCertificate, makeLocalCa, SERVER_CERT_DAYS, spkiHash, writeLocalCa } from '../ops/index.ts';
import { isDomainError } from '../platform/index.ts';
import { resolve } from 'node:path';

const USAGE = `usage: facepay tls init --host NAME [--host NAME...] [--ip ADDRESS...] [--out DIR] [--force]
  Makes a local certificate authority (ca.pem) and a certificate for this server (server.pem,
  server-key.pem) naming the host names and addresses tablets will open, in DIR (default: the data
  directory, FACEPAY_DATA_DIR), each readable by this user only. Install ca.pem on each tablet
  (the console offers it at /ca.crt), then start with
    FACEPAY_TLS_CERT=DIR/server.pem FACEPAY_TLS_KEY=DIR/server-key.pem
  The CA's private key is not kept: a new certificate (after ${SERVER_CERT_DAYS} days, or for new names) means a
  new CA, installed again. --force replaces existing files.
`;

/** Every value of a repeatable flag (`--ip A --ip B`, or `--ip A B` up to the next flag), removed from args. */
function values(args: string[], flag: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; ) {
    if (args[i] !== flag) {
      i++;
      continue;
    }
    args.splice(i, 1);
    while (i < args.length && !args[i]!.startsWith('--')) out.push(...args.splice(i, 1)[0]!.split(','));
  }
  return out;
}

export async function run(argv: string[]): Promise<number> {
  const args = [...argv];
  if (args[0] !== 'init' || args.includes('--help') || args.includes('-h')) {
    const help = args.includes('--help') || args.includes('-h');
    (help ? process.stdout : process.stderr).write(USAGE);
    return help ? 0 : 2;
  }
  args.shift();
  const force = args.includes('--force');
  const rest = args.filter((a) => a !== '--force');
  const hosts = values(rest, '--host');
  const ips = values(rest, '--ip');
  const out = values(rest, '--out');
  if (rest.length > 0 || out.length > 1) {
    process.stderr.write(`facepay tls: unexpected ${rest.join(' ') || out.join(' ')}\n${USAGE}`);
    return 2;
  }
  let dir: string;
  try {
    dir = out[0] !== undefined ? resolve(out[0]) : loadConfig().dataDir;
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`facepay: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  try {
    const files = makeLocalCa({ hosts, ips, now: new Date() });
    const [ca, cert, key] = writeLocalCa(dir, files, force);
    const info = describeCertificate(files.certPem);
    process.stdout.write(
      [
        `Wrote ${ca} (the CA to install on each tablet), ${cert} and ${key}.`,
        `  names     ${[...info.dnsNames, ...info.ips].join(', ')}`,
        `  valid to  ${info.validTo.toISOString().slice(0, 10)}`,
        `  CA SHA-256 fingerprint (compare it on the tablet): ${describeCertificate(files.caPem).sha256}`,
        `  server key SPKI (Chromium's --ignore-certificate-errors-spki-list): ${spkiHash(files.certPem)}`,
        `Start with: FACEPAY_TLS_CERT=${cert} FACEPAY_TLS_KEY=${key} HOST=0.0.0.0 npx facepay start`,
        '',
      ].join('\n'),
    );
    return 0;
  } catch (e) {
    if (isDomainError(e)) {
      process.stderr.write(`facepay tls: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}
