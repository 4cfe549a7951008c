// Pixel helpers for the browser tests: canvases read back from the page, label images and effect
// regions computed here (from masks decoded by the harness's own RLE decoder, not the page's), and
// error measures.

import { decodeRle } from './harness.mjs';

/** A canvas of the page as {w, h, data} (RGBA bytes), drawn through a 2D canvas (WebGL included). */
export async function grab(page, selector) {
  const [w, h, b64] = await page.evaluate((sel) => {
    const c = document.querySelector(sel);
    const t = document.createElement('canvas');
    t.width = c.width;
    t.height = c.height;
    const x = t.getContext('2d');
    x.drawImage(c, 0, 0);
    const d = x.getImageData(0, 0, c.width, c.height).data;
    let s = '';
    for (let i = 0; i < d.length; i += 0x8000) s += String.fromCharCode.apply(null, d.subarray(i, i + 0x8000));
    return [c.width, c.height, btoa(s)];
  }, selector);
  return { w, h, data: new Uint8Array(Buffer.from(b64, 'base64')) };
}

/** The page's CPU-renderer bytes for the frame shown (RGBA). */
export async function reference(page) {
  const b64 = await page.evaluate(() => window.__sam2c.referencePixels());
  return new Uint8Array(Buffer.from(b64, 'base64'));
}

/** Labels of the shown frame: visible objects in list order, later ones winning (docs/effects.md). */
export function labelsOf(s, w, h) {
  const labels = new Uint8Array(w * h);
  s.objects.filter((o) => !o.hidden).forEach((o, k) => {
    const m = s.masks.find((x) => x.frameIndex === s.frame && x.objectId === o.id);
    if (!m || m.size[0] !== h || m.size[1] !== w) return;
    const bits = decodeRle(m.counts, h, w);
    for (let i = 0; i < bits.length; i++) if (bits[i]) labels[i] = k + 1;
  });
  return labels;
}

/** 1 where (labels == k) has a pixel within the square of radius r (clamped at the edges). */
export function dilate(labels, k, w, h, r) {
  const rows = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let any = 0;
      for (let j = Math.max(0, x - r); j <= Math.min(w - 1, x + r) && !any; j++) any = labels[y * w + j] === k ? 1 : 0;
      rows[y * w + x] = any;
    }
  }
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let any = 0;
      for (let j = Math.max(0, y - r); j <= Math.min(h - 1, y + r) && !any; j++) any = rows[j * w + x];
      out[y * w + x] = any;
    }
  }
  return out;
}

/**
 * Where an effect may change pixels, and where it must change most of them. kind:
 *   obj   the object's own pixels;       edge  the object's pixels within r of another label;
 *   ring  background within r of it;    near  any non-object pixel within r of it;
 *   bg    every background pixel;        none  nowhere.
 */
export function region(kind, labels, k, w, h, r = 0) {
  const out = new Uint8Array(w * h);
  if (kind === 'none') return out;
  if (kind === 'obj' || kind === 'bg') {
    for (let i = 0; i < out.length; i++) out[i] = labels[i] === (kind === 'obj' ? k : 0) ? 1 : 0;
    return out;
  }
  if (kind === 'edge') {
    // Not eroded: a pixel of k with some other label within r (dilation of "not k").
    const other = new Uint8Array(w * h);
    for (let i = 0; i < other.length; i++) other[i] = labels[i] === k ? 0 : 1;
    const d = dilate(other, 1, w, h, r);
    for (let i = 0; i < out.length; i++) out[i] = labels[i] === k && d[i] ? 1 : 0;
    return out;
  }
  const d = dilate(labels, k, w, h, r);
  for (let i = 0; i < out.length; i++) out[i] = d[i] && labels[i] !== k && (kind === 'near' || labels[i] === 0) ? 1 : 0;
  return out;
}

/** Changed pixels (RGB) of b against a: {changed mask, count}. */
export function changes(a, b) {
  const n = a.length / 4;
  const mask = new Uint8Array(n);
  let count = 0;
  for (let i = 0; i < n; i++) {
    const o = 4 * i;
    if (a[o] !== b[o] || a[o + 1] !== b[o + 1] || a[o + 2] !== b[o + 2]) {
      mask[i] = 1;
      count++;
    }
  }
  return { mask, count };
}

/** First RGB byte where two RGBA images differ, or -1. */
export function firstDifference(a, b) {
  for (let i = 0; i < a.length; i++) if ((i & 3) !== 3 && a[i] !== b[i]) return i;
  return -1;
}

/** Mean absolute error over RGB between an RGBA image and an RGB one (ffmpeg's rgb24). */
export function maeRgbaRgb(rgba, rgb) {
  let sum = 0;
  const n = rgb.length / 3;
  for (let i = 0; i < n; i++) {
    sum += Math.abs(rgba[4 * i] - rgb[3 * i]) + Math.abs(rgba[4 * i + 1] - rgb[3 * i + 1]) + Math.abs(rgba[4 * i + 2] - rgb[3 * i + 2]);
  }
  return sum / (3 * n);
}

export const mix8 = (x, y, a) => Math.floor((x * (255 - a) + y * a + 127) / 255);

/** One box pass (docs/effects.md) over a single-channel image, along x (dx = 1) or y. */
function box(src, w, h, r, alongX) {
  const out = new Uint8Array(w * h);
  const n = 2 * r + 1;
  const cl = (v, hi) => (v < 0 ? 0 : v > hi ? hi : v);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let sum = 0;
      for (let j = -r; j <= r; j++) sum += alongX ? src[y * w + cl(x + j, w - 1)] : src[cl(y + j, h - 1) * w + x];
      out[y * w + x] = Math.floor((sum + r) / n);
    }
  }
  return out;
}

/**
 * Where a glow must show: pixels outside object k whose halo weight, scale(blur(mask, r),
 * strength), is at least minAlpha (computed here from the spec's formula, independently of the
 * page).
 */
export function glowRegion(labels, k, w, h, r, strength, minAlpha) {
  let m = new Uint8Array(w * h);
  for (let i = 0; i < m.length; i++) m[i] = labels[i] === k ? 255 : 0;
  for (let p = 0; p < 2; p++) m = box(box(m, w, h, r, true), w, h, r, false);
  const out = new Uint8Array(w * h);
  for (let i = 0; i < out.length; i++) out[i] = labels[i] !== k && Math.floor((m[i] * strength + 127) / 255) >= minAlpha ? 1 : 0;
  return out;
}

const isqrt = (n) => {
  let s = Math.floor(Math.sqrt(n));
  while (s * s > n) s--;
  while ((s + 1) * (s + 1) <= n) s++;
  return s;
};

/**
 * Background pixels a spotlight on object k dims to `max` or less (docs/effects.md: the circle
 * around the object's bounding box, in doubled coordinates), computed here.
 */
export function spotRegion(labels, k, w, h, scale, feather, level, max) {
  let x0 = w;
  let y0 = h;
  let x1 = -1;
  let y1 = -1;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== k) continue;
    const x = i % w;
    const y = Math.floor(i / w);
    x0 = Math.min(x0, x);
    x1 = Math.max(x1, x);
    y0 = Math.min(y0, y);
    y1 = Math.max(y1, y);
  }
  const out = new Uint8Array(w * h);
  if (x1 < 0) return out;
  const bw = x1 - x0 + 1;
  const bh = y1 - y0 + 1;
  const rIn = Math.floor((isqrt(bw * bw + bh * bh) * scale) / 100);
  const rOut = rIn + 2 * feather;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i]) continue;
    const dx = 2 * (i % w) + 1 - (x0 + x1 + 1);
    const dy = 2 * Math.floor(i / w) + 1 - (y0 + y1 + 1);
    const d = isqrt(dx * dx + dy * dy);
    const b = d <= rIn ? 255 : d >= rOut ? level : level + Math.floor(((255 - level) * (rOut - d)) / (rOut - rIn));
    out[i] = b <= max ? 1 : 0;
  }
  return out;
}
