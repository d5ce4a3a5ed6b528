/**
 * The colours of pictures: a stable colour per component label (the same label is the same colour
 * in every picture and slice), a perceptual heat map (viridis) for fields, and the fixed colours of
 * obstacles, open cells and paths.
 */

export type Rgb = readonly [number, number, number];

/** Blocked cells. */
export const BLOCKED: Rgb = [0, 0, 0];
/** Open cells of a path picture. */
export const OPEN: Rgb = [255, 255, 255];
/** The cells of a path (tests look for exactly this colour). */
export const PATH: Rgb = [230, 25, 75];
/** The background beside a narrow picture's colour bar. */
export const PAPER: Rgb = [255, 255, 255];
export const INK: Rgb = [0, 0, 0];

/** A label's colour: its hash picks a hue; saturation and value stay bright, never black. */
export function labelColour(label: number, out: Uint8Array, at: number): void {
  if (label === 0) {
    out.set(BLOCKED, at);
    return;
  }
  // lowbias32: neighbouring labels get unrelated hues.
  let x = label >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  const hue = ((x >>> 0) % 360) / 60;
  const s = 0.55 + ((x >>> 9) % 40) / 100;
  const v = 0.75 + ((x >>> 17) % 25) / 100;
  const c = v * s;
  const m = v - c;
  const xx = c * (1 - Math.abs((hue % 2) - 1));
  const [r, g, b] = hue < 1 ? [c, xx, 0] : hue < 2 ? [xx, c, 0] : hue < 3 ? [0, c, xx] : hue < 4 ? [0, xx, c] : hue < 5 ? [xx, 0, c] : [c, 0, xx];
  out[at] = Math.round((r + m) * 255);
  out[at + 1] = Math.round((g + m) * 255);
  out[at + 2] = Math.round((b + m) * 255);
}

/** Viridis at nine stops, from low to high. */
const VIRIDIS: readonly Rgb[] = [
  [68, 1, 84],
  [71, 44, 122],
  [59, 81, 139],
  [44, 113, 142],
  [33, 144, 141],
  [39, 173, 129],
  [92, 200, 99],
  [170, 220, 50],
  [253, 231, 37],
];

/** The heat colour of `t` in [0, 1] (clamped; NaN is the low end). */
export function heatColour(t: number, out: Uint8Array, at: number): void {
  const x = Number.isNaN(t) ? 0 : Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  const a = VIRIDIS[i]!;
  const b = VIRIDIS[i + 1]!;
  for (let k = 0; k < 3; k++) out[at + k] = Math.round(a[k]! + (b[k]! - a[k]!) * f);
}
