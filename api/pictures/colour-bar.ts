/**
 * The scale under a heat map: a bar from the low colour to the high one across the picture, with
 * the field's minimum written under its left end and its maximum under its right end, in a 3×5
 * pixel font drawn at twice its size (no font files, no text layout).
 */
import { INK, PAPER, heatColour } from './picture-colours.ts';

/** Each glyph: five rows of three bits, the high bit on the left. */
const GLYPHS: Record<string, readonly number[]> = {
  '0': [7, 5, 5, 5, 7],
  '1': [2, 6, 2, 2, 7],
  '2': [7, 1, 7, 4, 7],
  '3': [7, 1, 7, 1, 7],
  '4': [5, 5, 7, 1, 1],
  '5': [7, 4, 7, 1, 7],
  '6': [7, 4, 7, 5, 7],
  '7': [7, 1, 1, 1, 1],
  '8': [7, 5, 7, 5, 7],
  '9': [7, 5, 7, 1, 7],
  '.': [0, 0, 0, 0, 2],
  '-': [0, 0, 7, 0, 0],
  '+': [0, 2, 7, 2, 0],
  e: [0, 7, 7, 4, 7],
};

const PIXEL = 2;
const GLYPH_WIDTH = 3 * PIXEL;
const ADVANCE = GLYPH_WIDTH + PIXEL;
const MARGIN = 4;
const BAR_HEIGHT = 12;
const TEXT_HEIGHT = 5 * PIXEL;

/** Rows the scale adds under the picture. */
export const COLOUR_BAR_ROWS = MARGIN + BAR_HEIGHT + MARGIN + TEXT_HEIGHT + MARGIN;

/** How a scale value is written: four significant digits. */
export function scaleLabel(value: number): string {
  const text = Number(value.toPrecision(4)).toString();
  return text.length <= 10 ? text : value.toExponential(3);
}

/** The narrowest picture whose scale fits both labels. */
export function colourBarMinWidth(min: number, max: number): number {
  return 2 * MARGIN + (scaleLabel(min).length + scaleLabel(max).length + 2) * ADVANCE;
}

function drawText(text: string, row: number, left: number, out: Uint8Array): void {
  const y = Math.floor(row / PIXEL);
  for (let c = 0; c < text.length; c++) {
    const bits = GLYPHS[text[c]!]?.[y] ?? 0;
    for (let gx = 0; gx < 3; gx++) {
      if (((bits >> (2 - gx)) & 1) === 0) continue;
      for (let p = 0; p < PIXEL; p++) out.set(INK, 3 * (left + c * ADVANCE + gx * PIXEL + p));
    }
  }
}

/** The scale's rows, `width` pixels wide, each a fresh buffer. */
export function* colourBarRows(width: number, min: number, max: number): Iterable<Uint8Array> {
  const blank = (): Uint8Array => {
    const row = new Uint8Array(3 * width);
    for (let x = 0; x < width; x++) row.set(PAPER, 3 * x);
    return row;
  };
  for (let r = 0; r < MARGIN; r++) yield blank();
  const bar = blank();
  const span = Math.max(1, width - 2 * MARGIN - 1);
  for (let x = MARGIN; x < width - MARGIN; x++) heatColour((x - MARGIN) / span, bar, 3 * x);
  for (let r = 0; r < BAR_HEIGHT; r++) yield bar;
  for (let r = 0; r < MARGIN; r++) yield blank();
  const low = scaleLabel(min);
  const high = scaleLabel(max);
  for (let r = 0; r < TEXT_HEIGHT; r++) {
    const row = blank();
    drawText(low, r, MARGIN, row);
    drawText(high, r, width - MARGIN - high.length * ADVANCE + PIXEL, row);
    yield row;
  }
  for (let r = 0; r < MARGIN; r++) yield blank();
}
