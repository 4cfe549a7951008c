// The filmstrip under the video: a row of thumbnails across the video's length, with the frame
// scrubber (a range input, so mouse, touch and keyboard all scrub) laid over it and the frames
// that have masks marked under it. Thumbnails come from a second <video> element on the same
// downloaded file, so making them never moves the main player.

import type { FrameClock } from '../lib/frames';
import { h } from './dom';

const THUMB_HEIGHT = 54; // pixels of the thumbnail canvas (drawn at this height, shown smaller)
const MAX_THUMBS = 12;
const SEEK_TIMEOUT_MS = 5000;

export class Filmstrip {
  readonly root: HTMLDivElement;
  readonly thumbs: HTMLCanvasElement;
  private stopped = false;
  private video: HTMLVideoElement | null = null;
  /** Thumbnails drawn so far (for the tests). */
  drawn = 0;

  constructor(
    readonly scrubber: HTMLInputElement,
    readonly coverage: HTMLCanvasElement,
  ) {
    this.thumbs = h('canvas', { class: 'filmstrip-thumbs', width: 1, height: THUMB_HEIGHT, 'aria-hidden': 'true' });
    this.root = h('div', { class: 'filmstrip' }, h('div', { class: 'filmstrip-strip' }, this.thumbs, scrubber), coverage);
  }

  /** Draws thumbnails of evenly spaced frames; resolves when done (or stopped). Never throws. */
  async load(url: string, clock: FrameClock, width: number, height: number): Promise<void> {
    const n = clock.frameCount;
    const k = Math.max(1, Math.min(n, MAX_THUMBS));
    const tw = Math.max(1, Math.round((THUMB_HEIGHT * width) / Math.max(1, height)));
    this.thumbs.width = tw * k;
    this.thumbs.height = THUMB_HEIGHT;
    const ctx = this.thumbs.getContext('2d');
    if (!ctx || !url) return;
    const v = document.createElement('video');
    this.video = v;
    v.muted = true;
    v.playsInline = true;
    v.preload = 'auto';
    try {
      await this.event(v, 'loadeddata', () => {
        v.src = url;
      });
      for (let i = 0; i < k && !this.stopped; i++) {
        const frame = k === 1 ? 0 : Math.round((i * (n - 1)) / (k - 1));
        await this.event(v, 'seeked', () => {
          v.currentTime = clock.seekTime(frame);
        });
        if (this.stopped) break;
        ctx.drawImage(v, i * tw, 0, tw, THUMB_HEIGHT);
        this.drawn++;
      }
    } catch {
      // thumbnails are a convenience: the strip stays plain
    } finally {
      v.removeAttribute('src');
      v.load();
      this.video = null;
    }
  }

  private event(v: HTMLVideoElement, name: string, start: () => void): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        v.removeEventListener(name, onOk);
        v.removeEventListener('error', onErr);
        if (ok) resolve();
        else reject(new Error(`filmstrip: no ${name}`));
      };
      const onOk = () => done(true);
      const onErr = () => done(false);
      const timer = setTimeout(() => done(false), SEEK_TIMEOUT_MS);
      v.addEventListener(name, onOk);
      v.addEventListener('error', onErr);
      start();
    });
  }

  destroy(): void {
    this.stopped = true;
    if (this.video) {
      this.video.removeAttribute('src');
      this.video.load();
    }
  }
}
