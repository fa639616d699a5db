/**
 * Which frames of the challenge burst go to the server. Every frame sent costs a full model run
 * there, and the frontal, open-eyed frames in the middle of a burst add nothing to what the
 * server's check needs: the start (a frontal face), the movement (a turn or a blink) and the
 * return. Pure, so that the terminal, the portal and the bench choose alike.
 */

/** What the on-device detector saw in one frame of the burst; undefined when it found no face. */
export interface BurstLook {
  /** Head rotation in radians, either sign. */
  yaw?: number;
  /** Eye aspect ratio (mean of both eyes): drops when the eyes close. */
  eyes?: number;
}

export interface BurstChoiceRules {
  /**
   * |yaw| above which a frame counts as moved: well under the server's frontal limit (12 degrees),
   * so that a frame the server would see turned is never dropped.
   */
  frontalYaw: number;
  /**
   * A frontal frame whose eyes are below this share of the most open level seen so far on frontal
   * frames counts as moved: above the server's 65 %, so that a frame the server would see as a
   * blink is never dropped. (A turned face shows other eye proportions: it is kept for its yaw.)
   */
  eyesDrop: number;
  /** The last frames, always sent: the face coming back. */
  last: number;
}

export const BURST_CHOICE: BurstChoiceRules = { frontalYaw: 0.14, eyesDrop: 0.8, last: 2 };

/**
 * The indices to send, in order: the first frame, every frame that moved or that the detector could
 * not read (the server judges those), and the last `rules.last`. The server's checks are the same
 * on the frames chosen; only redundant frames are left out.
 */
export function chooseFrames(looks: readonly (BurstLook | undefined)[], rules: BurstChoiceRules = BURST_CHOICE): number[] {
  let open = 0;
  const chosen: number[] = [];
  looks.forEach((look, i) => {
    const moved =
      look === undefined ||
      look.yaw === undefined ||
      look.eyes === undefined ||
      Math.abs(look.yaw) > rules.frontalYaw ||
      look.eyes < rules.eyesDrop * open;
    if (!moved) open = Math.max(open, look.eyes!);
    if (i === 0 || i >= looks.length - rules.last || moved) chosen.push(i);
  });
  return chosen;
}
