// Paints the masks of one frame into an RGBA buffer the size of the masks, in one of three
// styles. Pure (no DOM), so it is unit-tested; the page puts the buffer on a canvas that lies
// over the video frame.

import { forEachForegroundRun, type RleMask } from './rle';
import type { Rgb } from './colors';

export type OverlayMode = 'filled' | 'outlined' | 'cutout';

export interface ObjectMask {
  mask: RleMask;
  color: Rgb;
  highlight?: boolean; // the selected object: a little more opaque
}

export const FILL_ALPHA = 140;
export const FILL_ALPHA_SELECTED = 170;
export const CUTOUT_SHADE = 225; // alpha of the dark veil over the background

/** Row-major 0/1 bitmap of one mask. */
function bitmap(mask: RleMask): Uint8Array {
  const [h, w] = mask.size;
  const out = new Uint8Array(h * w);
  forEachForegroundRun(mask, (start, end) => {
    let row = start % h;
    let col = (start - row) / h;
    for (let j = start; j < end; j++) {
      out[row * w + col] = 1;
      if (++row === h) {
        row = 0;
        col++;
      }
    }
  });
  return out;
}

/**
 * Renders into `rgba` (width * height * 4, cleared here). All masks must be width x height.
 * filled: translucent colour over each object; outlined: a 2-pixel opaque border; cutout: the
 * background is veiled in near-black and the objects stay clear, with a thin border.
 */
export function renderOverlay(
  rgba: Uint8ClampedArray,
  width: number,
  height: number,
  masks: readonly ObjectMask[],
  mode: OverlayMode,
): void {
  if (rgba.length !== width * height * 4) throw new Error('overlay buffer has the wrong size');
  rgba.fill(0);
  const n = width * height;
  if (mode === 'cutout') {
    for (let i = 0; i < n; i++) rgba[i * 4 + 3] = CUTOUT_SHADE;
  }
  for (const m of masks) {
    const [h, w] = m.mask.size;
    if (h !== height || w !== width) throw new Error(`mask is ${w}x${h}, the overlay ${width}x${height}`);
    const bits = bitmap(m.mask);
    const [r, g, b] = m.color;
    if (mode === 'filled') {
      const a = m.highlight ? FILL_ALPHA_SELECTED : FILL_ALPHA;
      for (let i = 0; i < n; i++) {
        if (!bits[i]) continue;
        const o = i * 4;
        rgba[o] = r;
        rgba[o + 1] = g;
        rgba[o + 2] = b;
        rgba[o + 3] = a;
      }
      continue;
    }
    if (mode === 'cutout') {
      for (let i = 0; i < n; i++) if (bits[i]) rgba[i * 4 + 3] = 0;
    }
    // Border: a foreground pixel with a background pixel (or the edge) within `radius`.
    const radius = mode === 'outlined' ? 2 : 1;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = y * width + x;
        if (!bits[i] || !nearBackground(bits, width, height, x, y, radius)) continue;
        const o = i * 4;
        rgba[o] = r;
        rgba[o + 1] = g;
        rgba[o + 2] = b;
        rgba[o + 3] = 255;
      }
    }
  }
}

function nearBackground(bits: Uint8Array, w: number, h: number, x: number, y: number, radius: number): boolean {
  for (let d = 1; d <= radius; d++) {
    if (x - d < 0 || x + d >= w || y - d < 0 || y + d >= h) return true;
    if (!bits[y * w + x - d] || !bits[y * w + x + d] || !bits[(y - d) * w + x] || !bits[(y + d) * w + x]) return true;
  }
  return false;
}
