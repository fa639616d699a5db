/**
 * The local certificate authority's certificate, for a tablet to trust before it opens the
 * terminal over HTTPS: a download link and the same address as a QR code for the tablet's camera,
 * with the fingerprint to compare on the tablet. Nothing shows when the server has no local CA.
 */
import { renderSVG } from 'uqr';
import { useEffect, useState } from 'preact/hooks';
import { caUrl, type CaInfo } from './ca-url.ts';
import { t } from './messages.ts';

export function CaCertificate({ standalone = false }: { standalone?: boolean }) {
  const [info, setInfo] = useState<CaInfo | null | undefined>(undefined);
  useEffect(() => {
    fetch('/v1/tls/ca').then(
      async (r) => setInfo(r.ok ? ((await r.json()) as CaInfo) : null),
      () => setInfo(null),
    );
  }, []);
  if (info === undefined) return standalone ? <p aria-live="polite">{t('ui.loading')}</p> : null;
  if (info === null) {
    return standalone ? (
      <p>{t('ca.noLocalCa')}</p>
    ) : null;
  }
  const url = caUrl(info);
  return (
    <div class="ca-certificate">
      <div class="qr" role="img" aria-label={t('ca.qrLabel')} data-testid="ca-qr" dangerouslySetInnerHTML={{ __html: renderSVG(url) }} />
      <p>
        {t('ca.scanBefore')}
        <a href="/ca.crt" download="facepay-ca.crt">
          {t('ca.certificateLink')}
        </a>{' '}
        (<code data-testid="ca-url">{url}</code>){t('ca.scanAfter')}
      </p>
      <p>
        {t('ca.compareFingerprint')} <code data-testid="ca-fingerprint">{info.sha256_fingerprint}</code>
      </p>
    </div>
  );
}
