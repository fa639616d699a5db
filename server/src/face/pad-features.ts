/**
 * Colour-texture features for passive presentation-attack detection, after Boulkenafet, Komulainen
 * and Hadid, "Face anti-spoofing based on color texture analysis" (ICIP 2015): uniform LBP(8,1)
 * histograms of the face crop in the Y, Cb, Cr and H, S, V channels. A print or a screen recaptured
 * by a camera loses and adds fine texture differently in luma and chroma (ink dots, screen pixels,
 * moiré, a narrower colour gamut), which a linear model over these histograms picks up.
 *
 * Pure JS on the float RGB crop the liveness code already makes; about a millisecond for 64 x 64.
 * Nothing here keeps or writes pixels.
 */

/** The six colour channels, in feature order. */
export const PAD_CHANNELS = ['y', 'cb', 'cr', 'h', 's', 'v'] as const;
/** 58 uniform patterns of 8 neighbours plus one bin for all the others. */
export const LBP_BINS = 59;

/** Maps each 8-bit LBP code to its uniform-pattern bin (0..57), or 58 for a non-uniform code. */
const UNIFORM: Uint8Array = (() => {
  const map = new Uint8Array(256);
  let next = 0;
  for (let code = 0; code < 256; code++) {
    let transitions = 0;
    for (let b = 0; b < 8; b++) if (((code >> b) & 1) !== ((code >> ((b + 1) % 8)) & 1)) transitions++;
    map[code] = transitions <= 2 ? next++ : LBP_BINS - 1;
  }
  if (next !== LBP_BINS - 1) throw new Error('uniform LBP table');
  return map;
})();

/** The names of the features `padFeatures` returns, in order: `lbp_<channel>_<bin>`. */
export function padFeatureNames(): string[] {
  return PAD_CHANNELS.flatMap((c) => Array.from({ length: LBP_BINS }, (_, i) => `lbp_${c}_${i}`));
}

/** The six channel planes of a float RGB crop (0..255): Y, Cb, Cr (BT.601) and H, S, V (0..1). */
export function colourPlanes(crop: Float32Array, side: number): Float32Array[] {
  const n = side * side;
  const planes = PAD_CHANNELS.map(() => new Float32Array(n));
  const [Y, Cb, Cr, H, S, V] = planes as [Float32Array, Float32Array, Float32Array, Float32Array, Float32Array, Float32Array];
  for (let i = 0; i < n; i++) {
    const r = crop[3 * i]!;
    const g = crop[3 * i + 1]!;
    const b = crop[3 * i + 2]!;
    Y[i] = 0.299 * r + 0.587 * g + 0.114 * b;
    Cb[i] = 128 - 0.168736 * r - 0.331264 * g + 0.5 * b;
    Cr[i] = 128 + 0.5 * r - 0.418688 * g - 0.081312 * b;
    const max = r > g ? (r > b ? r : b) : g > b ? g : b;
    const min = r < g ? (r < b ? r : b) : g < b ? g : b;
    const d = max - min;
    let h = 0;
    if (d > 0) {
      if (max === r) h = (g - b) / d + (g < b ? 6 : 0);
      else if (max === g) h = (b - r) / d + 2;
      else h = (r - g) / d + 4;
      h /= 6;
    }
    H[i] = h;
    S[i] = max > 0 ? d / max : 0;
    V[i] = max / 255;
  }
  return planes;
}

/**
 * Uniform LBP(8,1) histogram of one plane (interior pixels), normalised to sum 1, added into `out`
 * at `offset`. A neighbour at least as bright as the centre sets its bit.
 */
export function lbpHistogram(plane: Float32Array, side: number, out: Float32Array, offset: number): void {
  const counts = new Uint32Array(LBP_BINS);
  for (let y = 1; y < side - 1; y++) {
    let i = y * side + 1;
    for (let x = 1; x < side - 1; x++, i++) {
      const c = plane[i]!;
      const code =
        (plane[i - side - 1]! >= c ? 1 : 0) |
        (plane[i - side]! >= c ? 2 : 0) |
        (plane[i - side + 1]! >= c ? 4 : 0) |
        (plane[i + 1]! >= c ? 8 : 0) |
        (plane[i + side + 1]! >= c ? 16 : 0) |
        (plane[i + side]! >= c ? 32 : 0) |
        (plane[i + side - 1]! >= c ? 64 : 0) |
        (plane[i - 1]! >= c ? 128 : 0);
      counts[UNIFORM[code]!]!++;
    }
  }
  const total = (side - 2) * (side - 2);
  for (let k = 0; k < LBP_BINS; k++) out[offset + k] = counts[k]! / total;
}

/** The colour-texture feature vector of a square float RGB crop: 6 x 59 LBP histograms. */
export function padFeatures(crop: Float32Array, side: number): Float32Array {
  if (crop.length !== side * side * 3) throw new Error(`padFeatures: expected ${side} x ${side} x 3 values, got ${crop.length}`);
  const out = new Float32Array(PAD_CHANNELS.length * LBP_BINS);
  colourPlanes(crop, side).forEach((p, c) => lbpHistogram(p, side, out, c * LBP_BINS));
  return out;
}
