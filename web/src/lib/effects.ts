// The effects of docs/effects.md: their list and parameters (src/app/effects_spec.json, the one
// definition the server's renderer embeds too), scenes and their effects.mp4 query, label
// images, and the CPU renderer (the Canvas2D path and the reference the WebGL2 renderer is tested
// against). Integer arithmetic throughout, as in src/app/effects.c, so all agree byte for byte.

import specJson from '../../../src/app/effects_spec.json';
import type { Rgb } from './colors';

export interface Variant {
  label: string;
  radius?: number;
  amount?: number;
  level?: number;
  alpha?: number;
  width?: number;
  strength?: number;
  block?: number;
  scale?: number;
  feather?: number;
  transparent?: number;
  color?: number[];
  source?: 'first-frame' | 'image';
  mode?: 'tint' | 'swap' | 'invert';
}

export interface EffectDef {
  name: string;
  label: string;
  variants: Variant[];
}

interface Spec {
  checkerboard: { cell: number; dark: number[]; light: number[] };
  erase_fallback: number[];
  background: EffectDef[];
  object: EffectDef[];
}

export const SPEC = specJson as unknown as Spec;
export const BACKGROUND_EFFECTS: readonly EffectDef[] = SPEC.background;
export const OBJECT_EFFECTS: readonly EffectDef[] = SPEC.object;

export interface Choice {
  effect: string;
  variant: number;
}

export interface SceneObject extends Choice {
  id: number;
  color: Rgb;
}

/** What to draw: a background effect and the visible objects, in drawing order. */
export interface Scene {
  background: Choice;
  objects: SceneObject[];
}

export function objectEffect(name: string): EffectDef {
  const d = OBJECT_EFFECTS.find((e) => e.name === name);
  if (!d) throw new Error(`unknown object effect "${name}"`);
  return d;
}

export function backgroundEffect(name: string): EffectDef {
  const d = BACKGROUND_EFFECTS.find((e) => e.name === name);
  if (!d) throw new Error(`unknown background effect "${name}"`);
  return d;
}

function variantOf(def: EffectDef, i: number): Variant {
  const v = def.variants[i];
  if (!v) throw new Error(`${def.name} has no variant ${i}`);
  return v;
}

const hex2 = (n: number) => n.toString(16).padStart(2, '0');

/** The query of GET /export/<session>/effects.mp4 for a scene (docs/effects.md). */
export function sceneQuery(scene: Scene): string {
  const bg = `${scene.background.effect}.${scene.background.variant}`;
  const objects = scene.objects
    .map((o) => `${o.id}:${o.effect}.${o.variant}:${hex2(o.color[0])}${hex2(o.color[1])}${hex2(o.color[2])}`)
    .join(',');
  return `bg=${encodeURIComponent(bg)}&objects=${encodeURIComponent(objects)}`;
}

/** What the background needs besides the frame: 'first-frame', 'image', or null. */
export function replaceSource(scene: Scene): 'first-frame' | 'image' | null {
  if (scene.background.effect !== 'replace') return null;
  return variantOf(backgroundEffect('replace'), scene.background.variant).source ?? null;
}

/**
 * The label image: each pixel gets the 1-based position in scene.objects of the last listed
 * object whose mask (row-major 0/1, from `maskOf`) covers it; 0 is the background.
 */
export function buildLabels(
  scene: Scene,
  maskOf: (id: number) => Uint8Array | undefined,
  width: number,
  height: number,
  out: Uint8Array,
): Uint8Array {
  const n = width * height;
  if (out.length !== n) throw new Error('label buffer has the wrong size');
  out.fill(0);
  scene.objects.forEach((o, k) => {
    const m = maskOf(o.id);
    if (!m) return;
    if (m.length !== n) throw new Error(`mask of object ${o.id} is not ${width}x${height}`);
    for (let i = 0; i < n; i++) if (m[i]) out[i] = k + 1;
  });
  return out;
}

export function isqrt(n: number): number {
  let s = Math.floor(Math.sqrt(n));
  while (s * s > n) s--;
  while ((s + 1) * (s + 1) <= n) s++;
  return s;
}

export interface Spot {
  cx: number;
  cy: number;
  rIn: number;
  rOut: number;
  level: number;
}

/** The spotlights of a frame (docs/effects.md, doubled coordinates); shared with WebGL. */
export function spotlights(scene: Scene, labels: Uint8Array, width: number, height: number): Spot[] {
  const wanted = scene.objects.map((o) => o.effect === 'spotlight');
  if (!wanted.some(Boolean)) return [];
  const k = scene.objects.length;
  const x0 = new Array<number>(k + 1).fill(width);
  const y0 = new Array<number>(k + 1).fill(height);
  const x1 = new Array<number>(k + 1).fill(-1);
  const y1 = new Array<number>(k + 1).fill(-1);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const l = labels[y * width + x];
      if (!l || !wanted[l - 1]) continue;
      if (x < x0[l]) x0[l] = x;
      if (x > x1[l]) x1[l] = x;
      if (y < y0[l]) y0[l] = y;
      if (y > y1[l]) y1[l] = y;
    }
  }
  const spots: Spot[] = [];
  scene.objects.forEach((o, i) => {
    const l = i + 1;
    if (!wanted[i] || x1[l] < 0) return;
    const v = variantOf(objectEffect('spotlight'), o.variant);
    const bw = x1[l] - x0[l] + 1;
    const bh = y1[l] - y0[l] + 1;
    const rIn = Math.floor((isqrt(bw * bw + bh * bh) * (v.scale ?? 100)) / 100);
    spots.push({ cx: x0[l] + x1[l] + 1, cy: y0[l] + y1[l] + 1, rIn, rOut: rIn + 2 * (v.feather ?? 0), level: v.level ?? 0 });
  });
  return spots;
}

export function spotBrightness(spots: readonly Spot[], x: number, y: number): number {
  let b = 0;
  for (const s of spots) {
    const dx = 2 * x + 1 - s.cx;
    const dy = 2 * y + 1 - s.cy;
    const d = isqrt(dx * dx + dy * dy);
    const bk =
      d <= s.rIn ? 255 : d >= s.rOut ? s.level : s.level + Math.floor(((255 - s.level) * (s.rOut - d)) / (s.rOut - s.rIn));
    if (bk > b) b = bk;
    if (b === 255) break;
  }
  return b;
}

// --- the CPU renderer -------------------------------------------------------------------------------

const mix8 = (x: number, y: number, a: number) => ((x * (255 - a) + y * a + 127) / 255) | 0;
const scale8 = (x: number, a: number) => ((x * a + 127) / 255) | 0;
const luma8 = (r: number, g: number, b: number) => (77 * r + 150 * g + 29 * b + 128) >> 8;
const clampi = (v: number, lo: number, hi: number) => (v < lo ? lo : v > hi ? hi : v);

export function checkerColor(x: number, y: number): number[] {
  const c = SPEC.checkerboard;
  return ((Math.floor(x / c.cell) + Math.floor(y / c.cell)) & 1) === 0 ? c.dark : c.light;
}

/**
 * Renders scenes into RGBA buffers (alpha always 255). Inputs: `src` and `bgImage` RGBA of
 * width x height, `labels` from buildLabels. Keeps its scratch between frames.
 */
export class CpuEffects {
  private a: Uint8Array;
  private b: Uint8Array;
  private m: Uint8Array;
  private rowflag: Uint8Array;
  private sums: Int32Array;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    const n = width * height;
    this.a = new Uint8Array(n * 4);
    this.b = new Uint8Array(n * 4);
    this.m = new Uint8Array(n);
    this.rowflag = new Uint8Array(n);
    this.sums = new Int32Array(width * 4);
  }

  render(scene: Scene, src: Uint8ClampedArray | Uint8Array, labels: Uint8Array, bgImage: Uint8ClampedArray | Uint8Array | null, out: Uint8ClampedArray | Uint8Array): void {
    const n = this.width * this.height;
    if (src.length !== n * 4 || out.length !== n * 4 || labels.length !== n) throw new Error('effects: buffers of the wrong size');
    out.set(src);
    for (let i = 3; i < out.length; i += 4) out[i] = 255;
    this.background(scene, src, labels, bgImage, out);
    const spots = spotlights(scene, labels, this.width, this.height);
    if (spots.length) {
      for (let y = 0; y < this.height; y++) {
        for (let x = 0; x < this.width; x++) {
          const i = y * this.width + x;
          if (labels[i]) continue;
          const b = spotBrightness(spots, x, y);
          for (let c = 0; c < 3; c++) out[4 * i + c] = scale8(out[4 * i + c], b);
        }
      }
    }
    scene.objects.forEach((o, k) => this.object(o, k + 1, src, labels, out));
  }

  // One horizontal box pass over `nch` of 4 interleaved channels (stride 4).
  private boxH(inp: Uint8Array, out: Uint8Array, nch: number, r: number): void {
    const { width: w, height: h } = this;
    const n = 2 * r + 1;
    for (let y = 0; y < h; y++) {
      const row = y * w * 4;
      for (let c = 0; c < nch; c++) {
        let sum = 0;
        for (let j = -r; j <= r; j++) sum += inp[row + clampi(j, 0, w - 1) * 4 + c];
        for (let x = 0; x < w; x++) {
          out[row + x * 4 + c] = ((sum + r) / n) | 0;
          sum += inp[row + clampi(x + r + 1, 0, w - 1) * 4 + c] - inp[row + clampi(x - r, 0, w - 1) * 4 + c];
        }
      }
    }
  }

  private boxV(inp: Uint8Array, out: Uint8Array, nch: number, r: number): void {
    const { width: w, height: h } = this;
    const n = 2 * r + 1;
    const stride = w * 4;
    const sums = this.sums;
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < nch; c++) {
        let s = 0;
        for (let j = -r; j <= r; j++) s += inp[clampi(j, 0, h - 1) * stride + x * 4 + c];
        sums[x * 4 + c] = s;
      }
    }
    for (let y = 0; y < h; y++) {
      const add = clampi(y + r + 1, 0, h - 1) * stride;
      const sub = clampi(y - r, 0, h - 1) * stride;
      const o = y * stride;
      for (let x = 0; x < w; x++) {
        for (let c = 0; c < nch; c++) {
          const i = x * 4 + c;
          out[o + i] = ((sums[i] + r) / n) | 0;
          sums[i] += inp[add + i] - inp[sub + i];
        }
      }
    }
  }

  /** blur(P, r) of `this.a` (in place; `this.b` is scratch). */
  private blurA(nch: number, r: number): void {
    for (let k = 0; k < 2; k++) {
      this.boxH(this.a, this.b, nch, r);
      this.boxV(this.b, this.a, nch, r);
    }
  }

  /** this.m = erode (or dilate) of (labels == k) by a square of radius r. */
  private morph(labels: Uint8Array, k: number, r: number, dilate: boolean): void {
    const { width: w, height: h } = this;
    const n = 2 * r + 1;
    const rowflag = this.rowflag;
    for (let y = 0; y < h; y++) {
      const L = y * w;
      let cnt = 0;
      for (let j = -r; j <= r; j++) cnt += labels[L + clampi(j, 0, w - 1)] === k ? 1 : 0;
      for (let x = 0; x < w; x++) {
        rowflag[L + x] = dilate ? (cnt > 0 ? 1 : 0) : cnt === n ? 1 : 0;
        cnt += (labels[L + clampi(x + r + 1, 0, w - 1)] === k ? 1 : 0) - (labels[L + clampi(x - r, 0, w - 1)] === k ? 1 : 0);
      }
    }
    const cnt = this.sums;
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let j = -r; j <= r; j++) s += rowflag[clampi(j, 0, h - 1) * w + x];
      cnt[x] = s;
    }
    for (let y = 0; y < h; y++) {
      const add = clampi(y + r + 1, 0, h - 1) * w;
      const sub = clampi(y - r, 0, h - 1) * w;
      for (let x = 0; x < w; x++) {
        this.m[y * w + x] = dilate ? (cnt[x] > 0 ? 1 : 0) : cnt[x] === n ? 1 : 0;
        cnt[x] += rowflag[add + x] - rowflag[sub + x];
      }
    }
  }

  private background(scene: Scene, src: ArrayLike<number>, labels: Uint8Array, bgImage: ArrayLike<number> | null, out: Uint8ClampedArray | Uint8Array): void {
    const { width: w, height: h } = this;
    const name = scene.background.effect;
    const v = variantOf(backgroundEffect(name), scene.background.variant);
    if (name === 'none') return;
    if (name === 'replace' && !bgImage) throw new Error('effects: the replace background needs an image');
    if (name === 'blur') {
      this.a.set(src as Uint8Array);
      this.blurA(3, v.radius ?? 1);
    }
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const i = y * w + x;
        if (labels[i]) continue;
        const o = 4 * i;
        if (name === 'blur') {
          out[o] = this.a[o];
          out[o + 1] = this.a[o + 1];
          out[o + 2] = this.a[o + 2];
        } else if (name === 'desaturate') {
          const yv = luma8(src[o], src[o + 1], src[o + 2]);
          for (let c = 0; c < 3; c++) out[o + c] = mix8(src[o + c], yv, v.amount ?? 0);
        } else if (name === 'dim') {
          for (let c = 0; c < 3; c++) out[o + c] = scale8(src[o + c], v.level ?? 0);
        } else if (name === 'erase') {
          const col = v.transparent ? checkerColor(x, y) : (v.color ?? [0, 0, 0]);
          out[o] = col[0];
          out[o + 1] = col[1];
          out[o + 2] = col[2];
        } else if (name === 'replace' && bgImage) {
          out[o] = bgImage[o];
          out[o + 1] = bgImage[o + 1];
          out[o + 2] = bgImage[o + 2];
        }
      }
    }
  }

  private object(obj: SceneObject, k: number, src: ArrayLike<number>, labels: Uint8Array, out: Uint8ClampedArray | Uint8Array): void {
    const { width: w, height: h } = this;
    const n = w * h;
    if (labels.indexOf(k) < 0) return; // not on this frame: no ring, no glow
    const v = variantOf(objectEffect(obj.effect), obj.variant);
    const C = obj.color;
    const copySrc = (i: number) => {
      out[4 * i] = src[4 * i];
      out[4 * i + 1] = src[4 * i + 1];
      out[4 * i + 2] = src[4 * i + 2];
    };
    const paint = (i: number, col: ArrayLike<number>) => {
      out[4 * i] = col[0];
      out[4 * i + 1] = col[1];
      out[4 * i + 2] = col[2];
    };
    switch (obj.effect) {
      case 'original':
      case 'spotlight':
        for (let i = 0; i < n; i++) if (labels[i] === k) copySrc(i);
        break;
      case 'fill':
        for (let i = 0; i < n; i++) {
          if (labels[i] !== k) continue;
          for (let c = 0; c < 3; c++) out[4 * i + c] = mix8(out[4 * i + c], C[c], v.alpha ?? 0);
        }
        break;
      case 'outline':
        this.morph(labels, k, v.width ?? 1, false);
        for (let i = 0; i < n; i++) if (labels[i] === k && !this.m[i]) paint(i, C);
        break;
      case 'cutout':
        this.morph(labels, k, v.width ?? 1, true);
        for (let i = 0; i < n; i++) {
          if (labels[i] === k) copySrc(i);
          else if (labels[i] === 0 && this.m[i]) paint(i, v.color ?? [255, 255, 255]);
        }
        break;
      case 'glow': {
        const a = this.a;
        for (let i = 0; i < n; i++) a[4 * i] = labels[i] === k ? 255 : 0;
        this.blurA(1, v.radius ?? 1);
        for (let i = 0; i < n; i++) {
          if (labels[i] === k) continue;
          const al = scale8(a[4 * i], v.strength ?? 0);
          for (let c = 0; c < 3; c++) out[4 * i + c] = mix8(out[4 * i + c], C[c], al);
        }
        break;
      }
      case 'pixelate':
        this.pixelate(src, labels, k, v.block ?? 1, out);
        break;
      case 'erase':
        if (v.transparent) {
          for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (labels[y * w + x] === k) paint(y * w + x, checkerColor(x, y));
          break;
        }
        {
          const a = this.a;
          for (let i = 0; i < n; i++) {
            const wt = labels[i] === k ? 0 : 255;
            for (let c = 0; c < 3; c++) a[4 * i + c] = scale8(src[4 * i + c], wt);
            a[4 * i + 3] = wt;
          }
          this.blurA(4, v.radius ?? 1);
          const fb = SPEC.erase_fallback;
          for (let i = 0; i < n; i++) {
            if (labels[i] !== k) continue;
            const wt = a[4 * i + 3];
            for (let c = 0; c < 3; c++) {
              const val = wt ? ((a[4 * i + c] * 255 + (wt >> 1)) / wt) | 0 : fb[c];
              out[4 * i + c] = val > 255 ? 255 : val;
            }
          }
        }
        break;
      case 'recolor':
        for (let i = 0; i < n; i++) {
          if (labels[i] !== k) continue;
          const r = src[4 * i];
          const g = src[4 * i + 1];
          const b = src[4 * i + 2];
          if (v.mode === 'tint') {
            const yv = luma8(r, g, b);
            for (let c = 0; c < 3; c++) out[4 * i + c] = scale8(yv, C[c]);
          } else if (v.mode === 'swap') {
            out[4 * i] = b;
            out[4 * i + 1] = r;
            out[4 * i + 2] = g;
          } else {
            out[4 * i] = 255 - r;
            out[4 * i + 1] = 255 - g;
            out[4 * i + 2] = 255 - b;
          }
        }
        break;
      default:
        throw new Error(`unknown object effect "${obj.effect}"`);
    }
  }

  private pixelate(src: ArrayLike<number>, labels: Uint8Array, k: number, b: number, out: Uint8ClampedArray | Uint8Array): void {
    const { width: w, height: h } = this;
    for (let by = 0; by < h; by += b) {
      for (let bx = 0; bx < w; bx += b) {
        const ex = Math.min(bx + b, w);
        const ey = Math.min(by + b, h);
        let hit = false;
        for (let y = by; y < ey && !hit; y++) for (let x = bx; x < ex; x++) if (labels[y * w + x] === k) { hit = true; break; }
        if (!hit) continue;
        let r = 0;
        let g = 0;
        let bl = 0;
        const cnt = (ex - bx) * (ey - by);
        for (let y = by; y < ey; y++) {
          for (let x = bx; x < ex; x++) {
            const o = 4 * (y * w + x);
            r += src[o];
            g += src[o + 1];
            bl += src[o + 2];
          }
        }
        const half = cnt >> 1;
        const mr = ((r + half) / cnt) | 0;
        const mg = ((g + half) / cnt) | 0;
        const mb = ((bl + half) / cnt) | 0;
        for (let y = by; y < ey; y++) {
          for (let x = bx; x < ex; x++) {
            const i = y * w + x;
            if (labels[i] !== k) continue;
            out[4 * i] = mr;
            out[4 * i + 1] = mg;
            out[4 * i + 2] = mb;
          }
        }
      }
    }
  }
}
