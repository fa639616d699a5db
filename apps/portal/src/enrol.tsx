import { useEffect, useRef, useState } from 'preact/hooks';
import { CameraSession, STREAM, CHALLENGE_TEXT, GUIDANCE_TEXT, type Guidance } from '@facepay/face-capture';
import { api, ApiError, type Me } from './api.ts';

type Phase =
  | { step: 'camera'; guidance: Guidance }
  | { step: 'challenge'; text: string; frames: number }
  | { step: 'saving' }
  | { step: 'failed'; message: string };

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
      await session.waitForSteadyFace((guidance) => live && setPhase({ step: 'camera', guidance }));
      if (!live) return;
      const challenge = await api.faceChallenge();
      setPhase({ step: 'challenge', text: CHALLENGE_TEXT[challenge.kind], frames: 0 });
      const frames = await session.burst((i) => live && setPhase({ step: 'challenge', text: CHALLENGE_TEXT[challenge.kind], frames: i + 1 }));
      session.stop();
      if (!live) return;
      setPhase({ step: 'saving' });
      onDone(await api.enrol(challenge.challenge_id, frames));
    })().catch((e: unknown) => {
      session.stop();
      if (live) setPhase({ step: 'failed', message: e instanceof ApiError ? e.message : 'The camera is not available.' });
    });
    return () => {
      live = false;
      session.stop();
    };
  }, [attempt]);

  return (
    <section aria-labelledby="enrol-title">
      <h2 id="enrol-title">Enrol your face</h2>
      <video ref={video} class="camera" muted playsInline aria-hidden="true" />
      <p class="guidance" role="status" aria-live="polite">
        {phase.step === 'camera' && GUIDANCE_TEXT[phase.guidance]}
        {phase.step === 'challenge' && phase.text}
        {phase.step === 'saving' && 'Saving…'}
        {phase.step === 'failed' && phase.message}
      </p>
      {phase.step === 'challenge' && <progress max={STREAM.count} value={phase.frames} aria-label="capturing" />}
      {phase.step === 'failed' && (
        <button type="button" class="primary" onClick={() => setAttempt(attempt + 1)}>
          Try again
        </button>
      )}
      <button type="button" onClick={onCancel}>
        Cancel
      </button>
    </section>
  );
}
