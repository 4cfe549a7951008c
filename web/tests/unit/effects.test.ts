import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BACKGROUND_EFFECTS,
  CpuEffects,
  OBJECT_EFFECTS,
  buildLabels,
  sceneQuery,
  type Scene,
} from '../../src/lib/effects';
import { repoDir } from './paths';

/** A deterministic noisy frame (RGBA), a blob label image with objects 1..3, a background image. */
function makeInputs(w: number, h: number, seed: number) {
  let s = seed >>> 0;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) >>> 8) / (1 << 24);
  const src = new Uint8Array(w * h * 4);
  const bg = new Uint8Array(w * h * 4);
  const labels = new Uint8Array(w * h);
  const blobs = Array.from({ length: 5 }, (_, i) => ({
    x: rnd() * w,
    y: rnd() * h,
    r: 3 + rnd() * Math.min(w, h) * 0.3,
    k: (i % 3) + 1,
  }));
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      src[4 * i] = (x * 7 + rnd() * 40) & 255;
      src[4 * i + 1] = (y * 5 + rnd() * 40) & 255;
      src[4 * i + 2] = (rnd() * 256) | 0;
      src[4 * i + 3] = 255;
      bg[4 * i] = (x * 3) & 255;
      bg[4 * i + 1] = (y * 11) & 255;
      bg[4 * i + 2] = 90;
      bg[4 * i + 3] = 255;
      for (const b of blobs) if ((x - b.x) ** 2 + (y - b.y) ** 2 <= b.r * b.r) labels[i] = b.k;
    }
  }
  // A lone pixel and an object touching the frame's edge, for the windows' clamping.
  labels[0] = 2;
  labels[w * h - 1] = 3;
  return { src, bg, labels };
}

const rgb = (a: Uint8Array) => {
  const out = new Uint8Array((a.length / 4) * 3);
  for (let i = 0, j = 0; i < a.length; i += 4, j += 3) {
    out[j] = a[i];
    out[j + 1] = a[i + 1];
    out[j + 2] = a[i + 2];
  }
  return out;
};

/** Every variant of every effect, three objects at a time, each background variant in turn. */
function allScenes(): Scene[] {
  const objectChoices = OBJECT_EFFECTS.flatMap((e) => e.variants.map((_, v) => ({ effect: e.name, variant: v })));
  const bgChoices = BACKGROUND_EFFECTS.flatMap((e) => e.variants.map((_, v) => ({ effect: e.name, variant: v })));
  const colors: [number, number, number][] = [
    [255, 127, 14],
    [31, 119, 180],
    [44, 160, 44],
  ];
  const scenes: Scene[] = [];
  const count = Math.max(objectChoices.length, bgChoices.length);
  for (let i = 0; i < count; i++) {
    scenes.push({
      background: bgChoices[i % bgChoices.length],
      objects: [0, 1, 2].map((k) => ({
        id: [4, 0, 11][k],
        ...objectChoices[(i + k * 7) % objectChoices.length],
        color: colors[k],
      })),
    });
  }
  // Two spotlights at once (the brightest wins), and the same effect on all three.
  scenes.push({
    background: { effect: 'blur', variant: 1 },
    objects: [0, 1, 2].map((k) => ({ id: k + 1, effect: k === 1 ? 'fill' : 'spotlight', variant: k % 2, color: colors[k] })),
  });
  return scenes;
}

describe('effects: scenes and labels', () => {
  it('writes the effects.mp4 query of docs/effects.md', () => {
    const q = sceneQuery({
      background: { effect: 'blur', variant: 1 },
      objects: [
        { id: 3, effect: 'glow', variant: 1, color: [255, 127, 14] },
        { id: 0, effect: 'pixelate', variant: 0, color: [0, 8, 16] },
      ],
    });
    expect(q).toBe('bg=blur.1&objects=3%3Aglow.1%3Aff7f0e%2C0%3Apixelate.0%3A000810');
  });

  it('labels pixels by list position, later objects winning', () => {
    const a = Uint8Array.from([1, 1, 0, 0]);
    const b = Uint8Array.from([0, 1, 1, 0]);
    const scene: Scene = {
      background: { effect: 'none', variant: 0 },
      objects: [
        { id: 8, effect: 'fill', variant: 0, color: [0, 0, 0] },
        { id: 5, effect: 'fill', variant: 0, color: [0, 0, 0] },
      ],
    };
    const masks = new Map([
      [5, a],
      [8, b],
    ]);
    expect(Array.from(buildLabels(scene, (id) => masks.get(id), 4, 1, new Uint8Array(4)))).toEqual([2, 2, 1, 0]);
  });

  it('lists every effect of the issue, each with at least two variants', () => {
    expect(OBJECT_EFFECTS.map((e) => e.name)).toEqual(
      expect.arrayContaining(['fill', 'outline', 'cutout', 'glow', 'pixelate', 'erase', 'spotlight', 'recolor']),
    );
    expect(BACKGROUND_EFFECTS.map((e) => e.name)).toEqual(['none', 'blur', 'desaturate', 'dim', 'erase', 'replace']);
    for (const e of [...OBJECT_EFFECTS, ...BACKGROUND_EFFECTS]) {
      if (e.name !== 'none' && e.name !== 'original') expect(e.variants.length, e.name).toBeGreaterThanOrEqual(2);
    }
  });
});

// The page's CPU renderer against the server's C renderer (src/app/effects.c), byte for byte.
describe('effects: TypeScript renderer against the C renderer', () => {
  let skip = '';
  let work = '';
  let exe = '';

  beforeAll(() => {
    const sources = [
      'web/tests/unit/helpers/effects_cases.c',
      'src/app/effects.c',
      'src/app/effects_spec.c',
      'src/io/rle.c',
      'src/core/error.c',
    ].map((p) => resolve(repoDir, p));
    if (!sources.every(existsSync)) {
      skip = 'C sources not found';
      return;
    }
    work = mkdtempSync(join(tmpdir(), 'sam2-web-effects-'));
    // The header CMake generates from the spec: the same bytes.
    const spec = readFileSync(resolve(repoDir, 'src/app/effects_spec.json'));
    writeFileSync(
      join(work, 'effects_spec_data.h'),
      `static const unsigned char EFFECTS_SPEC_JSON[] = {${Array.from(spec, (b) => `0x${b.toString(16)},`).join('')}0x00};\n`,
    );
    exe = join(work, 'effects_cases');
    try {
      execFileSync(
        process.env.CC ?? 'cc',
        ['-std=c11', '-D_GNU_SOURCE', '-O1', '-I', resolve(repoDir, 'include'), '-I', resolve(repoDir, 'src'), '-I', work,
          '-o', exe, ...sources, '-lcjson', '-lm', '-lpthread'],
        { stdio: 'pipe' },
      );
    } catch (e) {
      skip = `no C compiler (with cJSON) could build the helper: ${String(e).split('\n')[0]}`;
    }
  });

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  for (const [w, h, seed] of [
    [61, 43, 1],
    [128, 72, 2],
    [7, 5, 3],
  ]) {
    it(`gives the same bytes on a ${w}x${h} frame for every effect and variant`, (ctx) => {
      if (skip) {
        console.warn(`SKIP: ${skip}`);
        ctx.skip();
      }
      const { src, bg, labels } = makeInputs(w, h, seed);
      const scenes = allScenes();
      writeFileSync(join(work, 'src.rgb'), rgb(src));
      writeFileSync(join(work, 'labels.u8'), labels);
      writeFileSync(join(work, 'bg.rgb'), rgb(bg));
      writeFileSync(
        join(work, 'scenes.txt'),
        scenes.map((s) => decodeURIComponent(sceneQuery(s).replace(/^bg=/, '').replace('&objects=', '|'))).join('\n') + '\n',
      );
      execFileSync(exe, [String(w), String(h), ...['src.rgb', 'labels.u8', 'bg.rgb', 'scenes.txt', 'out.rgb'].map((f) => join(work, f))]);
      const c = readFileSync(join(work, 'out.rgb'));
      expect(c.length).toBe(scenes.length * w * h * 3);
      const fx = new CpuEffects(w, h);
      const out = new Uint8Array(w * h * 4);
      scenes.forEach((scene, n) => {
        fx.render(scene, src, labels, bg, out);
        const mine = rgb(out);
        const theirs = c.subarray(n * w * h * 3, (n + 1) * w * h * 3);
        let first = -1;
        for (let i = 0; i < mine.length && first < 0; i++) if (mine[i] !== theirs[i]) first = i;
        expect(first, `scene ${sceneQuery(scene)}: first difference at byte ${first}`).toBe(-1);
      });
      // The scenes change the picture (the comparison is not of two copies of the source).
      fx.render(scenes[1], src, labels, bg, out);
      expect(Buffer.from(rgb(out)).equals(Buffer.from(rgb(src)))).toBe(false);
    });
  }
});
