/**
 * The local certificate authority's certificate, for a tablet to trust before it opens the
 * terminal over HTTPS: a download link and the same address as a QR code for the tablet's camera,
 * with the fingerprint to compare on the tablet. Nothing shows when the server has no local CA.
 */
import { renderSVG } from 'uqr';
import { useEffect, useState } from 'preact/hooks';
import { caUrl, type CaInfo } from './ca-url.ts';

export function CaCertificate({ standalone = false }: { standalone?: boolean }) {
  const [info, setInfo] = useState<CaInfo | null | undefined>(undefined);
  useEffect(() => {
    fetch('/v1/tls/ca').then(
      async (r) => setInfo(r.ok ? ((await r.json()) as CaInfo) : null),
      () => setInfo(null),
    );
  }, []);
  if (info === undefined) return standalone ? <p aria-live="polite">Loading…</p> : null;
  if (info === null) {
    return standalone ? (
      <p>This server has no local certificate authority (it speaks plain HTTP, or its certificate comes from a public or the shop's own CA), so there is nothing for a tablet to install.</p>
    ) : null;
  }
  const url = caUrl(info);
  return (
    <div class="ca-certificate">
      <div class="qr" role="img" aria-label="The CA certificate's download address as a QR code" data-testid="ca-qr" dangerouslySetInnerHTML={{ __html: renderSVG(url) }} />
      <p>
        Scan the code with the tablet's camera, or open <a href="/ca.crt" download="facepay-ca.crt">the CA certificate</a> (<code data-testid="ca-url">{url}</code>) on it, then install
        it as a trusted certificate authority (Android: Settings, Security, Encryption &amp; credentials, Install a certificate, CA certificate; iPad: open the
        downloaded profile in Settings, then switch it on under General, About, Certificate Trust Settings).
      </p>
      <p>
        Before trusting it, compare its SHA-256 fingerprint on the tablet: <code data-testid="ca-fingerprint">{info.sha256_fingerprint}</code>
      </p>
    </div>
  );
}
