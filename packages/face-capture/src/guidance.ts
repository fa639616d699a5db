/**
 * What the screen tells the shopper while the camera looks for a usable face. Pure: it reads what
 * the on-device detector saw in this frame and the one before, so the rules are testable in Node
 * and the same on every terminal. The server checks quality again; this only spares a round trip.
 */

export type Guidance =
  | 'no_face'
  /** No face found and the picture is dark: the likeliest reason is the light, so say that. */
  | 'no_face_dark'
  | 'one_person'
  | 'come_closer'
  | 'too_close'
  | 'off_centre'
  | 'face_camera'
  | 'too_dark'
  | 'backlit'
  | 'hold_still'
  | 'ok';

/** Every guidance, for catalogues that must name each one. */
export const GUIDANCES: readonly Guidance[] = ['no_face', 'no_face_dark', 'one_person', 'come_closer', 'too_close', 'off_centre', 'face_camera', 'too_dark', 'backlit', 'hold_still', 'ok'];

export interface SeenFace {
  /** x, y, width, height in pixels of the frame. */
  box: readonly [number, number, number, number];
  /** Head rotation in radians where the detector gives it. */
  yaw?: number;
  pitch?: number;
  /** Eye aspect ratio (mean of both eyes) where the detector gives landmarks: drops when the eyes close. */
  eyes?: number;
}

export interface SeenFrame {
  width: number;
  height: number;
  /** Mean luma over the face box (or the frame), 0..255. */
  brightness: number;
  /** Mean luma over the whole frame, where the detector measures it: a face much darker than its frame is backlit. */
  frameBrightness?: number;
  faces: readonly SeenFace[];
}

export interface GuidanceRules {
  /** The face's width as a share of the frame's shorter side, at least. */
  minFaceShare: number;
  /** Another face at least this share of the main face's width counts as a second person at the camera. */
  secondFaceShare: number;
  maxYaw: number;
  maxPitch: number;
  minBrightness: number;
  /** Movement of the face centre between frames, as a share of the face width, at most. */
  maxMotion: number;
  /** The face's width as a share of the frame's shorter side, at most: nearer, the face is cut off or distorted. */
  maxFaceShare: number;
  /** The face centre's distance from the frame centre, as a share of the frame's width or height, at most. */
  maxOffCentre: number;
  /** A face darker than its frame by this much luma is lit from behind. */
  backlightGap: number;
}

export const DEFAULT_RULES: GuidanceRules = {
  minFaceShare: 0.28,
  secondFaceShare: 0.6,
  maxYaw: 0.35,
  maxPitch: 0.35,
  minBrightness: 60,
  maxMotion: 0.08,
  maxFaceShare: 0.9,
  maxOffCentre: 0.3,
  backlightGap: 70,
};

/** The server's liveness challenges. */
export type ChallengeKind = 'turn_left' | 'turn_right' | 'blink';

/**
 * English wording, kept for other clients of this package; the Facepay apps show the translated
 * messages of web-common's capture catalogue (`capture.guidance.*`, `capture.challenge.*`) instead.
 */
export const GUIDANCE_TEXT: Record<Guidance, string> = {
  no_face: 'Look at the camera',
  no_face_dark: 'It is too dark here to see a face',
  one_person: 'One person at a time, please',
  come_closer: 'Come a little closer',
  too_close: 'Move back a little',
  off_centre: 'Move to the middle of the picture',
  face_camera: 'Face the camera',
  too_dark: 'It is too dark here',
  backlit: 'The light is behind you: turn away from it',
  hold_still: 'Hold still',
  ok: 'Hold still…',
};

export const CHALLENGE_TEXT: Record<ChallengeKind, string> = {
  turn_left: 'Slowly turn your head to the left, then back',
  turn_right: 'Slowly turn your head to the right, then back',
  blink: 'Blink once',
};

/** The largest face: the one nearest the camera. */
export function mainFace(frame: SeenFrame): SeenFace | undefined {
  let best: SeenFace | undefined;
  for (const f of frame.faces) if (best === undefined || f.box[2] > best.box[2]) best = f;
  return best;
}

function centre(f: SeenFace): [number, number] {
  return [f.box[0] + f.box[2] / 2, f.box[1] + f.box[3] / 2];
}

export function guidance(frame: SeenFrame, previous?: SeenFrame, rules: GuidanceRules = DEFAULT_RULES): Guidance {
  const face = mainFace(frame);
  if (face === undefined) return (frame.frameBrightness ?? frame.brightness) < rules.minBrightness ? 'no_face_dark' : 'no_face';
  if (frame.faces.some((f) => f !== face && f.box[2] >= rules.secondFaceShare * face.box[2])) return 'one_person';
  const shorter = Math.min(frame.width, frame.height);
  if (face.box[2] < rules.minFaceShare * shorter) return 'come_closer';
  if (face.box[2] > rules.maxFaceShare * shorter) return 'too_close';
  const [cx, cy] = centre(face);
  if (Math.abs(cx - frame.width / 2) > rules.maxOffCentre * frame.width || Math.abs(cy - frame.height / 2) > rules.maxOffCentre * frame.height) return 'off_centre';
  if (Math.abs(face.yaw ?? 0) > rules.maxYaw || Math.abs(face.pitch ?? 0) > rules.maxPitch) return 'face_camera';
  if (frame.brightness < rules.minBrightness) {
    return frame.frameBrightness !== undefined && frame.frameBrightness - frame.brightness > rules.backlightGap ? 'backlit' : 'too_dark';
  }
  const before = previous === undefined ? undefined : mainFace(previous);
  if (before !== undefined) {
    const [x0, y0] = centre(before);
    const [x1, y1] = centre(face);
    if (Math.hypot(x1 - x0, y1 - y0) > rules.maxMotion * face.box[2]) return 'hold_still';
  }
  return 'ok';
}

/** Guidance is `ok` for this many frames in a row before the capture starts: one good frame is luck. */
export class SteadyGate {
  private run = 0;
  constructor(private readonly needed = 5) {}
  push(g: Guidance): boolean {
    this.run = g === 'ok' ? this.run + 1 : 0;
    return this.run >= this.needed;
  }
  reset(): void {
    this.run = 0;
  }
}
