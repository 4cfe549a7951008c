// Frame-accurate video display: the file is fetched whole, its frame times read from the MP4
// sample tables, and a hidden <video> element is seeked to the middle of a frame's display
// interval and drawn onto a canvas. The page always knows which frame index the canvas shows,
// so the masks drawn over it are that frame's masks. Playback draws each frame the browser
// presents (requestVideoFrameCallback) and names it from its media time.

import { FrameClock } from '../lib/frames';
import { mp4FrameTimes } from '../lib/mp4';
import { ApiError, errorFromResponse, fetchOrExplain } from '../api/errors';

export interface LoadProgress {
  received: number;
  total: number;
}

type FrameListener = (frame: number) => void;

const SEEK_TIMEOUT_MS = 10_000;
/** The fastest follow() plays (a faster element runs past the stream between presented frames). */
const FOLLOW_MAX_RATE = 2;
/** How long to wait for the presented frame after `seeked` before drawing anyway. */
const PRESENT_GRACE_MS = 300;

interface VideoFrameMetadata {
  mediaTime: number;
}
type VideoWithFrameCallback = HTMLVideoElement & {
  requestVideoFrameCallback?: (cb: (now: number, meta: VideoFrameMetadata) => void) => number;
  cancelVideoFrameCallback?: (handle: number) => void;
};

export class FramePlayer {
  readonly video: VideoWithFrameCallback;
  clock: FrameClock | null = null;
  /** Set when the frame times were estimated instead of read from the file. */
  timingNote = '';
  /** The frame drawn on the canvas. */
  frame = 0;
  playing = false;
  private objectUrl = '';
  private seekTarget: number | null = null;
  /** Playback stopped with the element between frames: the next seek runs even to the index
   *  shown, so the canvas gets exactly that frame. */
  private redrawDue = false;
  private seeking: Promise<void> | null = null;
  private frameHandle = 0;
  /** Following a stream forward (see follow()): the newest frame that may be shown, and a frame
   *  the element presented past it (shown once the stream gets there), or -1. */
  private followState: { limit: number; held: number; handle: number } | null = null;
  private listeners: FrameListener[] = [];
  private onEnded: (() => void) | null = null;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    host: HTMLElement,
  ) {
    this.video = document.createElement('video') as VideoWithFrameCallback;
    this.video.muted = true;
    this.video.playsInline = true;
    this.video.preload = 'auto';
    this.video.className = 'source-video';
    this.video.setAttribute('aria-hidden', 'true');
    this.video.tabIndex = -1;
    host.append(this.video);
  }

  onFrame(listener: FrameListener): void {
    this.listeners.push(listener);
  }

  setOnEnded(cb: () => void): void {
    this.onEnded = cb;
  }

  /** The downloaded video as an object URL (for a second element: the filmstrip's). */
  get sourceUrl(): string {
    return this.objectUrl;
  }

  /** Whether a seek is in progress or queued. */
  get busy(): boolean {
    return this.seeking !== null;
  }

  get frameCount(): number {
    return this.clock?.frameCount ?? 0;
  }

  get width(): number {
    return this.video.videoWidth;
  }

  get height(): number {
    return this.video.videoHeight;
  }

  /** Downloads and opens a video; resolves when frame 0 is on the canvas. */
  async load(url: string, onProgress: (p: LoadProgress) => void, signal: AbortSignal): Promise<void> {
    const res = await fetchOrExplain(url, { signal, credentials: 'same-origin' }, 'Loading the video');
    if (!res.ok) throw await errorFromResponse(res, 'Loading the video');
    const total = Number(res.headers.get('Content-Length') ?? 0) || 0;
    const chunks: Uint8Array[] = [];
    let received = 0;
    if (res.body) {
      const reader = res.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
        received += value.length;
        onProgress({ received, total });
      }
    } else {
      const buf = new Uint8Array(await res.arrayBuffer());
      chunks.push(buf);
      received = buf.length;
    }
    const bytes = new Uint8Array(received);
    let at = 0;
    for (const c of chunks) {
      bytes.set(c, at);
      at += c.length;
    }
    let timing: { times: number[]; lastFrameDuration: number } | null = null;
    try {
      timing = mp4FrameTimes(bytes.buffer);
    } catch (e) {
      this.timingNote = `Frame times estimated (${e instanceof Error ? e.message : String(e)})`;
    }
    this.release();
    this.objectUrl = URL.createObjectURL(new Blob([bytes], { type: res.headers.get('Content-Type') ?? 'video/mp4' }));
    await this.openElement(this.objectUrl, signal);
    this.clock = timing
      ? new FrameClock(timing.times, timing.lastFrameDuration)
      : FrameClock.constantRate(24, Math.max(1, Math.round(this.video.duration * 24)));
    this.canvas.width = this.video.videoWidth;
    this.canvas.height = this.video.videoHeight;
    this.frame = -1;
    await this.seek(0);
  }

  private openElement(src: string, signal: AbortSignal): Promise<void> {
    const v = this.video;
    return new Promise((resolve, reject) => {
      const done = () => {
        v.removeEventListener('loadeddata', ok);
        v.removeEventListener('error', fail);
        signal.removeEventListener('abort', aborted);
      };
      const ok = () => {
        done();
        resolve();
      };
      const fail = () => {
        done();
        const code = v.error?.code;
        const why =
          code === 4
            ? 'this browser cannot decode the video (unsupported codec or format)'
            : code === 3
              ? 'the video data is corrupt'
              : 'the browser could not open the video';
        reject(new ApiError('protocol', `Loading the video: ${why}`));
      };
      const aborted = () => {
        done();
        reject(new DOMException('loading cancelled', 'AbortError'));
      };
      v.addEventListener('loadeddata', ok);
      v.addEventListener('error', fail);
      signal.addEventListener('abort', aborted);
      v.src = src;
      v.load();
    });
  }

  /** Shows frame i (clamped). Concurrent calls coalesce: only the latest target is shown. */
  seek(i: number): Promise<void> {
    if (!this.clock) return Promise.resolve();
    if (this.playing) this.pause(false);
    if (this.followState) this.stopFollow();
    this.seekTarget = this.clock.clamp(i);
    if (!this.seeking) this.seeking = this.runSeeks();
    return this.seeking;
  }

  private async runSeeks(): Promise<void> {
    await Promise.resolve(); // `this.seeking` is set before the loop can end
    try {
      while (this.seekTarget !== null && this.clock) {
        const target = this.seekTarget;
        this.seekTarget = null;
        if (target === this.frame && !this.redrawDue) continue;
        this.redrawDue = false;
        await this.seekElement(this.clock.seekTime(target), target);
        this.draw(target);
      }
    } finally {
      // No await between the loop's last check and here: a seek() after this starts a new loop.
      this.seeking = null;
    }
  }

  /**
   * Seeks the element and resolves once the frame is ready to draw: after `seeked` and, where
   * the browser reports presented frames, once the presented frame is the wanted one (after a
   * quick run of seeks, `seeked` can come before the new frame replaced the old one).
   */
  private seekElement(time: number, frame: number): Promise<void> {
    const v = this.video;
    if (Math.abs(v.currentTime - time) < 1e-6 && !v.seeking) return Promise.resolve();
    return new Promise((resolve, reject) => {
      let seeked = false;
      let presented = !v.requestVideoFrameCallback;
      let handle = 0;
      let grace = 0;
      const cleanup = () => {
        clearTimeout(timer);
        clearTimeout(grace);
        v.removeEventListener('seeked', onSeeked);
        if (handle && v.cancelVideoFrameCallback) v.cancelVideoFrameCallback(handle);
      };
      const check = () => {
        if (!seeked || !presented) return;
        cleanup();
        resolve();
      };
      const onFrame = (_now: number, meta: VideoFrameMetadata) => {
        handle = 0;
        if (this.clock && this.clock.frameAt(meta.mediaTime) === frame) {
          presented = true;
          check();
        } else if (v.requestVideoFrameCallback) {
          handle = v.requestVideoFrameCallback(onFrame);
        }
      };
      const onSeeked = () => {
        seeked = true;
        // No new frame is presented when the element already shows the wanted one.
        if (!presented) {
          grace = window.setTimeout(() => {
            presented = true;
            check();
          }, PRESENT_GRACE_MS);
        }
        check();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new ApiError('protocol', 'The browser did not show the requested frame in time'));
      }, SEEK_TIMEOUT_MS);
      if (v.requestVideoFrameCallback) handle = v.requestVideoFrameCallback(onFrame);
      v.addEventListener('seeked', onSeeked);
      v.currentTime = time;
    });
  }

  private draw(frame: number): void {
    const ctx = this.canvas.getContext('2d');
    if (ctx && this.video.videoWidth > 0) ctx.drawImage(this.video, 0, 0, this.canvas.width, this.canvas.height);
    this.frame = frame;
    for (const l of this.listeners) l(frame);
  }

  async play(): Promise<void> {
    if (!this.clock || this.playing) return;
    this.stopFollow();
    if (this.frame >= this.clock.frameCount - 1) await this.seek(0);
    this.playing = true;
    const v = this.video;
    const step = (_now: number, meta?: VideoFrameMetadata) => {
      if (!this.playing || !this.clock) return;
      const t = meta ? meta.mediaTime : v.currentTime;
      const f = this.clock.frameAt(t);
      if (f !== this.frame) this.draw(f);
      this.schedule(step);
    };
    v.onended = () => {
      if (!this.playing) return;
      this.pause(true);
      this.onEnded?.();
    };
    try {
      await v.play();
    } catch (e) {
      this.playing = false;
      throw new ApiError('protocol', `The browser refused to play the video: ${e instanceof Error ? e.message : e}`);
    }
    this.schedule(step);
  }

  private schedule(step: (now: number, meta?: VideoFrameMetadata) => void): void {
    const v = this.video;
    if (v.requestVideoFrameCallback) this.frameHandle = v.requestVideoFrameCallback(step);
    else this.frameHandle = requestAnimationFrame((now) => step(now));
  }

  /** Whether follow() is running. */
  get following(): boolean {
    return this.followState !== null;
  }

  /**
   * Shows the frames of a stream that goes forward, up to `limit` (the newest frame that has
   * arrived), by playing the element rather than seeking: the decoder reads the file in order, so
   * a frame costs one decode, not a decode from the last keyframe. The rate grows with how far
   * behind the display is (up to 2x); the display never shows a frame past `limit`. A frame the
   * element presents past it is held, and shown once the stream gets there; while frames before
   * it wait to be shown (the element ran on between two presented frames), it seeks back to the
   * newest. Call with growing limits; seek() or stopFollow() ends it.
   */
  follow(limit: number): void {
    const clock = this.clock;
    if (!clock) return;
    limit = clock.clamp(limit);
    if (this.seeking || this.playing) {
      // Not at rest on the frame shown: catch up by seeking (coalesced).
      if (!this.playing) void this.seek(limit).catch(() => undefined);
      return;
    }
    let fs = this.followState;
    if (!fs) fs = this.followState = { limit, held: -1, handle: 0 };
    fs.limit = Math.max(fs.limit, limit);
    const v = this.video;
    const ahead = clock.frameAt(v.currentTime);
    if (ahead > fs.limit && fs.held < 0) {
      // Ran past the stream between two presented frames, maybe to the end of the video (which
      // pauses it): hold that frame. Playing on from there would be wrong, and an element that
      // ended starts again from frame 0 when played.
      v.pause();
      fs.held = ahead;
    }
    if (fs.held >= 0 && fs.held <= fs.limit) {
      // The element has been holding this frame: it has masks now.
      const held = fs.held;
      fs.held = -1;
      this.draw(held);
    } else if (fs.held > fs.limit && this.frame < fs.limit) {
      // It ran past the stream while frames that have arrived are not shown: seek back to them.
      const target = fs.limit;
      this.stopFollow();
      void this.seek(target).catch(() => undefined);
      return;
    }
    if (this.frame >= fs.limit || fs.held >= 0) return;
    v.playbackRate = Math.min(FOLLOW_MAX_RATE, Math.max(1, fs.limit - this.frame));
    if (!v.paused) return;
    const state = fs;
    const step = (_now: number, meta?: VideoFrameMetadata) => {
      if (this.followState !== state || !this.clock) return;
      const f = this.clock.frameAt(meta ? meta.mediaTime : v.currentTime);
      if (f <= state.limit) {
        if (f !== this.frame) this.draw(f);
      } else {
        state.held = f;
      }
      if (f >= state.limit || v.ended) {
        v.pause();
        return;
      }
      v.playbackRate = Math.min(FOLLOW_MAX_RATE, Math.max(1, state.limit - f));
      state.handle = v.requestVideoFrameCallback ? v.requestVideoFrameCallback(step) : requestAnimationFrame((t) => step(t));
    };
    state.handle = v.requestVideoFrameCallback ? v.requestVideoFrameCallback(step) : requestAnimationFrame((t) => step(t));
    v.play().catch(() => {
      // Refused or interrupted: seek instead.
      if (this.followState !== state) return;
      this.stopFollow();
      void this.seek(state.limit).catch(() => undefined);
    });
  }

  /** Ends follow(): the element stops; the canvas keeps the frame it shows. */
  stopFollow(): void {
    const fs = this.followState;
    if (!fs) return;
    this.followState = null;
    const v = this.video;
    if (v.cancelVideoFrameCallback) v.cancelVideoFrameCallback(fs.handle);
    else cancelAnimationFrame(fs.handle);
    v.pause();
    v.playbackRate = 1;
  }

  /** Stops playback; with `snap`, re-seeks so the canvas shows exactly the frame it names. */
  pause(snap = true): void {
    if (!this.playing) return;
    this.playing = false;
    const v = this.video;
    if (v.cancelVideoFrameCallback) v.cancelVideoFrameCallback(this.frameHandle);
    else cancelAnimationFrame(this.frameHandle);
    v.pause();
    this.redrawDue = true;
    if (snap && this.clock) {
      // `frame` keeps naming the frame shown (not -1): the scrubber shows it while the seek
      // runs. Set to 0 there, a Home pressed meanwhile changed nothing, sent no input event,
      // and the seek then landed elsewhere (browser test timeline-after-tracking).
      void this.seek(this.clock.frameAt(v.currentTime)).catch(() => undefined);
    }
  }

  release(): void {
    this.stopFollow();
    this.pause(false);
    if (this.objectUrl) {
      this.video.removeAttribute('src');
      this.video.load();
      URL.revokeObjectURL(this.objectUrl);
      this.objectUrl = '';
    }
    this.clock = null;
  }

  destroy(): void {
    this.release();
    this.video.remove();
    this.listeners = [];
  }
}
