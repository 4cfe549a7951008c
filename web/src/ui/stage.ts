// The picture: the decoded frame (a hidden canvas, the effects' source), the effects canvas that
// shows it, the prompts canvas over it (points, boxes), and the pointer, touch and keyboard input
// that edits prompts: a click or tap adds a point, a click on a point removes it, a drag draws a
// box.

import { cssColor } from '../lib/colors';
import { h } from './dom';
import type { Box, Point, TrackedObject } from './store';

export interface PointInput {
  x: number;
  y: number;
  label: 0 | 1;
}

/** How far (CSS pixels) a pointer moves before a press becomes a box drag. */
const DRAG_THRESHOLD = 6;
/** How near (CSS pixels) a click must be to a point to remove it. */
export const HIT_RADIUS = 12;

export class Stage {
  readonly root: HTMLDivElement;
  readonly frameCanvas: HTMLCanvasElement;
  effectsCanvas: HTMLCanvasElement;
  readonly promptCanvas: HTMLCanvasElement;
  readonly message: HTMLDivElement;
  private readonly cursor: HTMLDivElement;
  private cursorPos = { x: 0.5, y: 0.5 };
  private cursorShown = false;
  private press: { id: number; x: number; y: number; dragging: boolean; negative: boolean } | null = null;
  private dragBox: Box | null = null;
  /** The tool's label for a plain click or tap (the − tool makes it 0). */
  tool: 0 | 1 = 1;
  /** A click or keyboard point. */
  onPoint: (p: PointInput) => void = () => undefined;
  /** A click at (x, y) on a drawn point: return true when it removed one. */
  onPointHit: (x: number, y: number, radiusX: number, radiusY: number) => boolean = () => false;
  onBox: (b: Box) => void = () => undefined;
  onTogglePlay: () => void = () => undefined;
  /** Redraw the prompts (the drag box changed). */
  onPromptsChanged: () => void = () => undefined;

  constructor(label: string) {
    this.frameCanvas = h('canvas', { class: 'frame-canvas', width: 16, height: 9, 'aria-hidden': 'true' });
    this.effectsCanvas = h('canvas', { class: 'effects-canvas', width: 16, height: 9, 'aria-hidden': 'true' });
    this.promptCanvas = h('canvas', { class: 'prompt-canvas', width: 16, height: 9, 'aria-hidden': 'true' });
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
      this.effectsCanvas,
      this.promptCanvas,
      this.cursor,
      this.message,
    );
    this.root.addEventListener('pointerdown', (e) => this.down(e));
    this.root.addEventListener('pointermove', (e) => this.move(e));
    this.root.addEventListener('pointerup', (e) => this.up(e));
    this.root.addEventListener('pointercancel', () => this.cancelPress());
    this.root.addEventListener('contextmenu', (e) => {
      e.preventDefault();
      const p = this.toFrame(e);
      if (p) this.onPoint({ ...p, label: 0 });
    });
    this.root.addEventListener('keydown', (e) => this.key(e));
    // The keyboard cursor shows when focus came from the keyboard, not from a click.
    this.root.addEventListener('focus', () => this.showCursor(this.root.matches(':focus-visible')));
    this.root.addEventListener('blur', () => this.showCursor(false));
  }

  /** Where the video element lives (under the canvases, so it keeps presenting frames). */
  get videoHost(): HTMLElement {
    return this.root;
  }

  /** Puts another canvas in the effects canvas's place (a renderer needs a fresh one). */
  replaceEffectsCanvas(c: HTMLCanvasElement): void {
    c.className = 'effects-canvas';
    c.setAttribute('aria-hidden', 'true');
    this.effectsCanvas.replaceWith(c);
    this.effectsCanvas = c;
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
    if (w <= 0) return;
    // A container without a height of its own (phones: the page scrolls) gives the width's.
    const width = hgt > 0 ? Math.min(w, hgt * this.aspect) : w;
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

  // --- pointer and touch ---------------------------------------------------------------------------

  private toFrame(e: { clientX: number; clientY: number }): { x: number; y: number } | null {
    const rect = this.promptCanvas.getBoundingClientRect();
    if (rect.width <= 0 || rect.height <= 0) return null;
    const x = (e.clientX - rect.left) / rect.width;
    const y = (e.clientY - rect.top) / rect.height;
    if (x < 0 || x > 1 || y < 0 || y > 1) return null;
    return { x, y };
  }

  private down(e: PointerEvent): void {
    if (e.button !== 0 || this.press) return;
    this.showCursor(false);
    this.press = { id: e.pointerId, x: e.clientX, y: e.clientY, dragging: false, negative: e.shiftKey || e.altKey };
    try {
      this.root.setPointerCapture(e.pointerId);
    } catch {
      // not capturable (synthetic events): the moves still arrive on the stage
    }
  }

  private move(e: PointerEvent): void {
    const p = this.press;
    if (!p || p.id !== e.pointerId) return;
    if (!p.dragging && Math.hypot(e.clientX - p.x, e.clientY - p.y) >= DRAG_THRESHOLD) p.dragging = true;
    if (p.dragging) {
      this.dragBox = this.boxOf(p, e);
      this.onPromptsChanged();
    }
  }

  private boxOf(p: { x: number; y: number }, e: { clientX: number; clientY: number }): Box | null {
    const rect = this.promptCanvas.getBoundingClientRect();
    if (rect.width <= 0 || rect.height <= 0) return null;
    const clamp = (v: number) => Math.min(1, Math.max(0, v));
    const ax = clamp((p.x - rect.left) / rect.width);
    const ay = clamp((p.y - rect.top) / rect.height);
    const bx = clamp((e.clientX - rect.left) / rect.width);
    const by = clamp((e.clientY - rect.top) / rect.height);
    return { x0: Math.min(ax, bx), y0: Math.min(ay, by), x1: Math.max(ax, bx), y1: Math.max(ay, by) };
  }

  private up(e: PointerEvent): void {
    const p = this.press;
    if (!p || p.id !== e.pointerId) return;
    this.press = null;
    const box = p.dragging ? this.boxOf(p, e) : null;
    this.dragBox = null;
    if (p.dragging) {
      this.onPromptsChanged();
      if (box && box.x1 > box.x0 && box.y1 > box.y0) this.onBox(box);
      return;
    }
    const at = this.toFrame(e);
    if (!at) return;
    const rect = this.promptCanvas.getBoundingClientRect();
    if (this.onPointHit(at.x, at.y, HIT_RADIUS / rect.width, HIT_RADIUS / rect.height)) return;
    this.onPoint({ ...at, label: p.negative ? 0 : this.tool });
  }

  private cancelPress(): void {
    this.press = null;
    if (this.dragBox) {
      this.dragBox = null;
      this.onPromptsChanged();
    }
  }

  // --- keyboard ------------------------------------------------------------------------------------

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
      this.onPoint({ ...this.cursorPos, label: e.shiftKey ? 0 : this.tool });
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

  // --- drawing prompts -----------------------------------------------------------------------------

  /** Draws the points and boxes of the shown frame, and the box being dragged. */
  drawPrompts(objects: readonly TrackedObject[], selectedId: number | null, frame: number, width: number, height: number): void {
    const canvas = this.promptCanvas;
    if (canvas.width !== width || canvas.height !== height) {
      canvas.width = width;
      canvas.height = height;
    }
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    ctx.clearRect(0, 0, width, height);
    const scale = width / Math.max(1, canvas.clientWidth || width); // video pixels per CSS pixel
    for (const o of objects) {
      const p = o.prompts.get(frame);
      if (!p) continue;
      if (p.box) this.drawBox(ctx, p.box, cssColor(o.color), scale, false);
      for (const q of p.points) this.drawPoint(ctx, q, o, o.id === selectedId, scale);
    }
    if (this.dragBox) this.drawBox(ctx, this.dragBox, '#ffffff', scale, true);
  }

  private drawBox(ctx: CanvasRenderingContext2D, b: Box, color: string, scale: number, dashed: boolean): void {
    const { width, height } = ctx.canvas;
    ctx.save();
    ctx.lineWidth = 2 * scale;
    ctx.strokeStyle = color;
    if (dashed) ctx.setLineDash([6 * scale, 4 * scale]);
    ctx.strokeRect(b.x0 * width, b.y0 * height, (b.x1 - b.x0) * width, (b.y1 - b.y0) * height);
    ctx.restore();
  }

  private drawPoint(ctx: CanvasRenderingContext2D, p: Point, obj: TrackedObject, selected: boolean, scale: number): void {
    const { width, height } = ctx.canvas;
    const r = Math.max(3, 8 * scale);
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
