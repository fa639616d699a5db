import { useEffect, useRef, useState } from 'preact/hooks';
import { CameraError, CameraSession, CaptureTimeout, STREAM, type ChallengeKind, type Guidance } from '@facepay/face-capture';
import { api, ApiError, errorMessage, type Me } from './api.ts';
import { t } from './messages.ts';

/** How long the camera looks for a steady face before saying what is wrong and offering a retry. */
const FACE_TIMEOUT_MS = 30_000;

type Phase =
  | { step: 'camera'; guidance: Guidance }
  | { step: 'challenge'; kind: ChallengeKind; frames: number }
  | { step: 'saving' }
  | { step: 'failed'; message: string };

/** The reason a capture stopped, in the shopper's language: what the camera said, what the server said, or the network. */
function failure(e: unknown): string {
  if (e instanceof CameraError) return t(`capture.camera.${e.problem}`);
  if (e instanceof CaptureTimeout) return t('capture.timeout', { hint: t(`capture.guidance.${e.guidance}`) });
  if (e instanceof ApiError) return errorMessage(e);
  return t('capture.camera.unavailable');
}

/**
 * Enrolment takes the same path as a payment at a terminal: guidance until the face is steady, a
 * random challenge, a short burst of frames. The server keeps only templates, never the frames.
 */
export function Enrol({ onDone, onCancel }: { onDone: (me: Me) => void; onCancel: () => void }) {
  const video = useRef<HTMLVideoElement>(null);
  const [phase, setPhase] = useState<Phase>({ step: 'camera', guidance: 'no_face' });
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    if (!video.current) return;
    const session = new CameraSession(video.current);
    let live = true;
    (async () => {
      await session.start();
      await session.waitForSteadyFace((guidance) => live && setPhase({ step: 'camera', guidance }), { timeoutMs: FACE_TIMEOUT_MS });
      if (!live) return;
      const challenge = await api.faceChallenge();
      setPhase({ step: 'challenge', kind: challenge.kind, frames: 0 });
      const frames = await session.burst((i) => live && setPhase({ step: 'challenge', kind: challenge.kind, frames: i + 1 }));
      session.stop();
      if (!live) return;
      setPhase({ step: 'saving' });
      onDone(await api.enrol(challenge.challenge_id, frames));
    })().catch((e: unknown) => {
      session.stop();
      if (live) setPhase({ step: 'failed', message: failure(e) });
    });
    return () => {
      live = false;
      session.stop();
    };
  }, [attempt]);

  return (
    <section aria-labelledby="enrol-title">
      <h2 id="enrol-title">{t('enrol.title')}</h2>
      <video ref={video} class="camera" muted playsInline aria-hidden="true" />
      <p class="guidance" role="status" aria-live="polite" data-guidance={phase.step === 'camera' ? phase.guidance : undefined}>
        {phase.step === 'camera' && t(`capture.guidance.${phase.guidance}`)}
        {phase.step === 'challenge' && t(`capture.challenge.${phase.kind}`)}
        {phase.step === 'saving' && t('enrol.saving')}
        {phase.step === 'failed' && phase.message}
      </p>
      {phase.step === 'challenge' && <progress max={STREAM.count} value={phase.frames} aria-label={t('enrol.capturing')} />}
      {phase.step === 'failed' && (
        <button type="button" class="primary" onClick={() => setAttempt(attempt + 1)}>
          {t('capture.retry')}
        </button>
      )}
      <button type="button" onClick={onCancel}>
        {t('enrol.cancel')}
      </button>
    </section>
  );
}
