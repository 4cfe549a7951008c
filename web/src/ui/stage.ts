// The picture: the video frame canvas, the mask canvas over it, points, and the pointer and
// keyboard input that adds points.

import { cssColor } from '../lib/colors';
import { renderOverlay, type ObjectMask, type OverlayMode } from '../lib/overlay';
import { h } from './dom';
import type { Point, TrackedObject } from './store';
import type { RleMask } from '../lib/rle';

export interface PointInput {
  x: number;
  y: number;
  label: 0 | 1;
}

export class Stage {
  readonly root: HTMLDivElement;
  readonly frameCanvas: HTMLCanvasElement;
  readonly maskCanvas: HTMLCanvasElement;
  readonly message: HTMLDivElement;
  private readonly cursor: HTMLDivElement;
  private cursorPos = { x: 0.5, y: 0.5 };
  private cursorShown = false;
  private image: ImageData | null = null;
  /** Called for a click (or keyboard point); return false to refuse (e.g. while tracking). */
  onPoint: (p: PointInput) => void = () => undefined;
  onTogglePlay: () => void = () => undefined;

  constructor(label: string) {
    this.frameCanvas = h('canvas', { class: 'frame-canvas', width: 16, height: 9, 'aria-hidden': 'true' });
    this.maskCanvas = h('canvas', { class: 'mask-canvas', width: 16, height: 9, 'aria-hidden': 'true' });
    this.message = h('div', { class: 'stage-message', role: 'status' });
    this.cursor = h('div', { class: 'key-cursor', hidden: true, 'aria-hidden': 'true' });
    this.root = h(
      'div',
      {
        class: 'stage',
        tabindex: 0,
        role: 'group',
        'aria-label': label,
        'aria-keyshortcuts': 'Enter Shift+Enter ArrowLeft ArrowRight ArrowUp ArrowDown Space',
      },
      this.frameCanvas,
      this.maskCanvas,
      this.cursor,
      this.message,
    );
    this.root.addEventListener('click', (e) => this.pointer(e, e.shiftKey ? 0 : 1));
    this.root.addEventListener('contextmenu', (e) => {
      e.preventDefault();
      this.pointer(e, 0);
    });
    this.root.addEventListener('keydown', (e) => this.key(e));
    // The keyboard cursor shows when focus came from the keyboard, not from a click.
    this.root.addEventListener('focus', () => this.showCursor(this.root.matches(':focus-visible')));
    this.root.addEventListener('blur', () => this.showCursor(false));
    this.root.addEventListener('pointerdown', () => this.showCursor(false));
  }

  /** Where the video element lives (under the canvases, so it keeps rendering frames). */
  get videoHost(): HTMLElement {
    return this.root;
  }

  private aspect = 16 / 9;
  private observer: ResizeObserver | null = null;

  setAspect(width: number, height: number): void {
    if (width > 0 && height > 0) this.aspect = width / height;
    this.fit();
  }

  /** Keeps the stage as large as its container allows at the video's aspect ratio. */
  fitInto(container: HTMLElement): void {
    this.observer?.disconnect();
    this.observer = new ResizeObserver(() => this.fit());
    this.observer.observe(container);
  }

  private fit(): void {
    const box = this.root.parentElement;
    if (!box) return;
    const w = box.clientWidth;
    const hgt = box.clientHeight;
    if (w <= 0 || hgt <= 0) return;
    const width = Math.min(w, hgt * this.aspect);
    this.root.style.width = `${Math.floor(width)}px`;
    this.root.style.height = `${Math.floor(width / this.aspect)}px`;
  }

  disconnect(): void {
    this.observer?.disconnect();
    this.observer = null;
  }

  setMessage(text: string, kind: 'info' | 'busy' | 'error' | '' = 'info'): void {
    this.message.textContent = text;
    this.message.dataset.kind = kind;
    this.message.hidden = !text;
  }

  private pointer(e: MouseEvent, label: 0 | 1): void {
    const rect = this.frameCanvas.getBoundingClientRect();
    if (rect.width <= 0 || rect.height <= 0) return;
    const x = (e.clientX - rect.left) / rect.width;
    const y = (e.clientY - rect.top) / rect.height;
    if (x < 0 || x > 1 || y < 0 || y > 1) return;
    this.onPoint({ x, y, label });
  }

  private key(e: KeyboardEvent): void {
    const step = e.shiftKey ? 0.05 : 0.01;
    const moves: Record<string, [number, number]> = {
      ArrowLeft: [-step, 0],
      ArrowRight: [step, 0],
      ArrowUp: [0, -step],
      ArrowDown: [0, step],
    };
    if (moves[e.key]) {
      const [dx, dy] = moves[e.key];
      this.cursorPos = {
        x: Math.min(1, Math.max(0, this.cursorPos.x + dx)),
        y: Math.min(1, Math.max(0, this.cursorPos.y + dy)),
      };
      this.showCursor(true);
      e.preventDefault();
      e.stopPropagation();
    } else if (e.key === 'Enter') {
      this.onPoint({ ...this.cursorPos, label: e.shiftKey ? 0 : 1 });
      e.preventDefault();
      e.stopPropagation();
    } else if (e.key === ' ') {
      this.onTogglePlay();
      e.preventDefault();
      e.stopPropagation();
    }
  }

  private showCursor(on: boolean): void {
    this.cursorShown = on;
    this.cursor.hidden = !on;
    this.cursor.style.left = `${this.cursorPos.x * 100}%`;
    this.cursor.style.top = `${this.cursorPos.y * 100}%`;
  }

  get keyboardCursorVisible(): boolean {
    return this.cursorShown;
  }

  /** Draws the masks of the shown frame and the points clicked on it. */
  drawOverlay(
    masks: Map<number, RleMask> | undefined,
    objects: readonly TrackedObject[],
    selectedId: number | null,
    frame: number,
    mode: OverlayMode,
  ): void {
    const canvas = this.maskCanvas;
    const list: ObjectMask[] = [];
    for (const o of objects) {
      const m = masks?.get(o.id);
      if (m) list.push({ mask: m, color: o.color, highlight: o.id === selectedId });
    }
    const [mh, mw] = list.length > 0 ? list[0].mask.size : [this.frameCanvas.height, this.frameCanvas.width];
    if (canvas.width !== mw || canvas.height !== mh) {
      canvas.width = mw;
      canvas.height = mh;
      this.image = null;
    }
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    if (!this.image || this.image.width !== mw || this.image.height !== mh) this.image = ctx.createImageData(mw, mh);
    const sameSize = list.filter((m) => m.mask.size[0] === mh && m.mask.size[1] === mw);
    if (list.length === 0 && mode !== 'cutout') {
      ctx.clearRect(0, 0, mw, mh);
    } else {
      renderOverlay(this.image.data, mw, mh, sameSize, mode);
      ctx.putImageData(this.image, 0, 0);
    }
    for (const o of objects) this.drawPoints(ctx, o.points.get(frame) ?? [], o, o.id === selectedId);
  }

  private drawPoints(ctx: CanvasRenderingContext2D, points: Point[], obj: TrackedObject, selected: boolean): void {
    const { width, height } = ctx.canvas;
    // About 8 CSS pixels whatever the video's resolution.
    const scale = width / Math.max(1, ctx.canvas.clientWidth || width);
    const r = Math.max(3, 8 * scale);
    for (const p of points) {
      const x = p.x * width;
      const y = p.y * height;
      ctx.beginPath();
      ctx.arc(x, y, r, 0, Math.PI * 2);
      ctx.fillStyle = p.label === 1 ? cssColor(obj.color) : '#1b1b1f';
      ctx.fill();
      ctx.lineWidth = Math.max(2, r / 3);
      ctx.strokeStyle = p.label === 1 ? '#ffffff' : cssColor(obj.color);
      ctx.stroke();
      if (selected) {
        ctx.beginPath();
        ctx.arc(x, y, r + ctx.lineWidth * 1.5, 0, Math.PI * 2);
        ctx.lineWidth = Math.max(1, r / 5);
        ctx.strokeStyle = 'rgba(255,255,255,0.8)';
        ctx.stroke();
      }
      // The sign, so positive and negative differ by shape and not only by colour.
      ctx.strokeStyle = '#ffffff';
      ctx.lineWidth = Math.max(2, r / 3.5);
      ctx.beginPath();
      ctx.moveTo(x - r * 0.5, y);
      ctx.lineTo(x + r * 0.5, y);
      if (p.label === 1) {
        ctx.moveTo(x, y - r * 0.5);
        ctx.lineTo(x, y + r * 0.5);
      }
      ctx.stroke();
    }
  }
}
