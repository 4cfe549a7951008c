// Frame index <-> media time, for seeking a <video> element to an exact frame and for naming
// the frame the browser is showing.

export class FrameClock {
  readonly times: readonly number[];
  private readonly lastDuration: number;

  /** times: ascending presentation times (s) of frames 0..n-1. */
  constructor(times: readonly number[], lastFrameDuration: number) {
    if (times.length === 0) throw new Error('a video needs at least one frame');
    for (let i = 1; i < times.length; i++) {
      if (!(times[i] >= times[i - 1])) throw new Error(`frame times are not ascending at frame ${i}`);
    }
    this.times = times;
    const prev = times.length > 1 ? times[times.length - 1] - times[times.length - 2] : 0;
    this.lastDuration = lastFrameDuration > 0 ? lastFrameDuration : prev > 0 ? prev : 1 / 30;
  }

  /** Frames at a constant rate (when the container cannot be read). */
  static constantRate(fps: number, frameCount: number): FrameClock {
    if (!(fps > 0) || !(frameCount >= 1)) throw new Error('constant-rate clock needs fps > 0 and frames >= 1');
    const times = Array.from({ length: Math.floor(frameCount) }, (_, i) => i / fps);
    return new FrameClock(times, 1 / fps);
  }

  get frameCount(): number {
    return this.times.length;
  }

  /** End of the last frame, seconds. */
  get duration(): number {
    return this.times[this.times.length - 1] + this.lastDuration;
  }

  /** Nominal frames per second (for ETA and the time read-out). */
  get fps(): number {
    return this.frameCount / Math.max(this.duration - this.times[0], 1e-9);
  }

  /** Start of frame i's display interval. */
  startOf(i: number): number {
    return this.times[this.clamp(i)];
  }

  /**
   * The time to seek to so that frame i is shown: the middle of its display interval, safe
   * from the rounding of currentTime on either side.
   */
  seekTime(i: number): number {
    const k = this.clamp(i);
    const end = k + 1 < this.times.length ? this.times[k + 1] : this.times[k] + this.lastDuration;
    return (this.times[k] + end) / 2;
  }

  /** The frame shown at time t (the last frame whose start is <= t, allowing for rounding). */
  frameAt(t: number): number {
    const times = this.times;
    // currentTime and mediaTime are rounded (to microseconds or so); never by a quarter frame.
    const target = t + Math.min(1e-3, this.lastDuration / 4);
    let lo = 0;
    let hi = times.length - 1;
    if (target < times[0]) return 0;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (times[mid] <= target) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  clamp(i: number): number {
    if (!Number.isFinite(i)) return 0;
    return Math.min(Math.max(Math.round(i), 0), this.times.length - 1);
  }
}

/** "1:02.35" for a time in seconds. */
export function formatClock(seconds: number): string {
  const s = Math.max(0, seconds);
  const m = Math.floor(s / 60);
  const rest = s - m * 60;
  return `${m}:${rest.toFixed(2).padStart(5, '0')}`;
}
