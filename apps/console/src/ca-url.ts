/** What GET /v1/tls/ca tells the console about the local certificate authority. */
export interface CaInfo {
  sha256_fingerprint: string;
  http_port: number | null;
}

/** Where a tablet fetches the certificate: over plain HTTP when the server offers it there (a tablet that does not trust the CA yet gets no warning), else this address. */
export function caUrl(info: CaInfo, loc: { protocol: string; hostname: string; origin: string } = location): string {
  if (info.http_port !== null && loc.protocol === 'https:') {
    // A URL's hostname keeps an IPv6 address's brackets; one given without them gets them.
    const host = loc.hostname.includes(':') && !loc.hostname.startsWith('[') ? `[${loc.hostname}]` : loc.hostname;
    return `http://${host}${info.http_port === 80 ? '' : `:${info.http_port}`}/ca.crt`;
  }
  return `${loc.origin}/ca.crt`;
}
