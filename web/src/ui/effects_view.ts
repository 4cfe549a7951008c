// Shows a frame with its effects on the stage's effects canvas: WebGL2 where the browser has it,
// else (or with ?renderer=2d, or after a lost WebGL context) the CPU renderer and Canvas2D. Both
// draw the same bytes (docs/effects.md).

import { CpuEffects, type Scene } from '../lib/effects';
import { GlEffects } from '../lib/effects_gl';
import type { Stage } from './stage';

export type RendererKind = 'webgl2' | 'canvas2d';

export interface Background {
  pixels: Uint8ClampedArray | Uint8Array; // RGBA, the frame's size
  version: number; // changes when the pixels do
}

export class EffectsView {
  kind: RendererKind = 'canvas2d';
  private gl: GlEffects | null = null;
  private cpu: CpuEffects | null = null;
  private out: ImageData | null = null;

  constructor(
    private readonly stage: Stage,
    preferCpu: boolean,
  ) {
    if (!preferCpu) {
      this.gl = GlEffects.create(stage.effectsCanvas);
      if (this.gl) this.kind = 'webgl2';
    }
  }

  private fallBack(): void {
    this.gl?.destroy();
    this.gl = null;
    this.kind = 'canvas2d';
    // A canvas keeps the kind of its first context: the 2D renderer needs a fresh one.
    this.stage.replaceEffectsCanvas(document.createElement('canvas'));
  }

  render(src: ImageData, scene: Scene, labels: Uint8Array, bg: Background | null): void {
    const { width, height } = src;
    if (this.gl && !this.gl.lost) {
      try {
        this.gl.render(scene, src.data, width, height, labels, bg);
        return;
      } catch (e) {
        console.warn(`WebGL2 effects failed, drawing with Canvas2D instead: ${e instanceof Error ? e.message : e}`);
        this.fallBack();
      }
    } else if (this.gl) {
      this.fallBack();
    }
    const canvas = this.stage.effectsCanvas;
    if (canvas.width !== width || canvas.height !== height) {
      canvas.width = width;
      canvas.height = height;
    }
    if (!this.cpu || this.cpu.width !== width || this.cpu.height !== height) this.cpu = new CpuEffects(width, height);
    if (!this.out || this.out.width !== width || this.out.height !== height) this.out = new ImageData(width, height);
    this.cpu.render(scene, src.data, labels, bg ? bg.pixels : null, this.out.data);
    canvas.getContext('2d')?.putImageData(this.out, 0, 0);
  }

  /** The CPU renderer's bytes for the same input (the browser tests compare them with WebGL2's). */
  reference(src: ImageData, scene: Scene, labels: Uint8Array, bg: Background | null): Uint8ClampedArray {
    const fx = new CpuEffects(src.width, src.height);
    const out = new Uint8ClampedArray(src.data.length);
    fx.render(scene, src.data, labels, bg ? bg.pixels : null, out);
    return out;
  }

  destroy(): void {
    this.gl?.destroy();
    this.gl = null;
  }
}
