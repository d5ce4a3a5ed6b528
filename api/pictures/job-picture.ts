/**
 * A job's picture, row by row: components coloured by label, a diffusion field as a heat map over
 * its minimum..maximum with the scale drawn under it, a shortest path drawn over the obstacles.
 * Each cell is `scale` × `scale` pixels; only one row of cells and one row of pixels are held.
 */
import { COLOUR_BAR_ROWS, colourBarMinWidth, colourBarRows } from './colour-bar.ts';
import { BLOCKED, OPEN, PAPER, PATH, heatColour, labelColour } from './picture-colours.ts';
import type { PicturePlane } from './picture-plane.ts';
import type { PlanePath, PlaneRows } from './plane-sources.ts';

export type PictureContent =
  | { kind: 'components'; labels: PlaneRows }
  | { kind: 'diffusion'; field: PlaneRows; obstacles: PlaneRows; min: number; max: number }
  | { kind: 'shortest_path'; obstacles: PlaneRows; path: PlanePath };

export interface PictureLayout {
  /** Pixels across and down, the scale included. */
  width: number;
  height: number;
  scale: number;
}

/** The picture's size: the plane at `scale`, widened and lengthened for a heat map's scale. */
export function pictureLayout(plane: PicturePlane, kind: PictureContent['kind'], scale: number, range?: { min: number; max: number }): PictureLayout {
  let width = plane.width * scale;
  let height = plane.height * scale;
  if (kind === 'diffusion') {
    width = Math.max(width, colourBarMinWidth(range?.min ?? 0, range?.max ?? 0));
    height += COLOUR_BAR_ROWS;
  }
  return { width, height, scale };
}

/** The picture's rows of RGB pixels, top to bottom. */
export async function* pictureRows(plane: PicturePlane, layout: PictureLayout, content: PictureContent): AsyncIterable<Uint8Array> {
  const { scale } = layout;
  const cells = new Uint8Array(3 * plane.width);
  const raw = new Uint8Array(4 * plane.width);
  const words = new Uint32Array(raw.buffer);
  const floats = new Float32Array(raw.buffer);
  const blocked = new Uint8Array(plane.width);
  const pixels = new Uint8Array(3 * layout.width);
  for (let x = plane.width * scale; x < layout.width; x++) pixels.set(PAPER, 3 * x);
  try {
    for (let r = 0; r < plane.height; r++) {
      switch (content.kind) {
        case 'components':
          await content.labels.row(r, raw);
          for (let c = 0; c < plane.width; c++) labelColour(words[c]!, cells, 3 * c);
          break;
        case 'diffusion': {
          await content.field.row(r, raw);
          await content.obstacles.row(r, blocked);
          const span = content.max - content.min;
          for (let c = 0; c < plane.width; c++) {
            if (blocked[c]) cells.set(BLOCKED, 3 * c);
            else heatColour(span > 0 ? (floats[c]! - content.min) / span : 0, cells, 3 * c);
          }
          break;
        }
        case 'shortest_path':
          await content.obstacles.row(r, blocked);
          for (let c = 0; c < plane.width; c++) cells.set(content.path.has(r, c) ? PATH : blocked[c] ? BLOCKED : OPEN, 3 * c);
          break;
      }
      for (let c = 0; c < plane.width; c++) {
        const colour = cells.subarray(3 * c, 3 * c + 3);
        for (let s = 0; s < scale; s++) pixels.set(colour, 3 * (c * scale + s));
      }
      for (let s = 0; s < scale; s++) yield pixels;
    }
  } finally {
    if (content.kind === 'components') await content.labels.close();
    else await content.obstacles.close();
    if (content.kind === 'diffusion') await content.field.close();
  }
  if (content.kind === 'diffusion') yield* colourBarRows(layout.width, content.min, content.max);
}
