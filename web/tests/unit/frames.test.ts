import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FrameClock, formatClock } from '../../src/lib/frames';
import { mp4FrameTimes } from '../../src/lib/mp4';
import { repoDir } from './paths';

// --- a minimal MP4 writer for the parser's tests ------------------------------------------------
function box(type: string, ...payload: Uint8Array[]): Uint8Array {
  const size = 8 + payload.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(size);
  new DataView(out.buffer).setUint32(0, size);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  let at = 8;
  for (const p of payload) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
function u32s(...values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const v = new DataView(out.buffer);
  values.forEach((x, i) => v.setInt32(i * 4, x | 0));
  return out;
}
const fullBox = (type: string, ...values: number[]) => box(type, u32s(0, ...values));

interface TrackSpec {
  handler?: string;
  timescale: number;
  stts: [number, number][];
  ctts?: [number, number][];
  elst?: [number, number][]; // [segment duration (movie scale), media time]
}
function mp4(tracks: TrackSpec[], movieScale = 1000): ArrayBuffer {
  const traks = tracks.map((t) => {
    const stbl = box(
      'stbl',
      fullBox('stts', t.stts.length, ...t.stts.flat()),
      ...(t.ctts ? [fullBox('ctts', t.ctts.length, ...t.ctts.flat())] : []),
    );
    const handler = t.handler ?? 'vide';
    const hdlr = box('hdlr', u32s(0, 0), new TextEncoder().encode(handler), u32s(0, 0, 0));
    const mdhd = fullBox('mdhd', 0, 0, t.timescale, 0, 0);
    const mdia = box('mdia', mdhd, hdlr, box('minf', stbl));
    const edts = t.elst ? [box('edts', fullBox('elst', t.elst.length, ...t.elst.flatMap(([d, m]) => [d, m, 0x10000])))] : [];
    return box('trak', ...edts, mdia);
  });
  const moov = box('moov', fullBox('mvhd', 0, 0, movieScale, 0), ...traks);
  const file = new Uint8Array([...box('ftyp', new TextEncoder().encode('isom'), u32s(0)), ...box('mdat', u32s(1, 2)), ...moov]);
  return file.buffer;
}

describe('MP4 frame times', () => {
  it('reads constant-rate frames without B-frames', () => {
    const t = mp4FrameTimes(mp4([{ timescale: 24, stts: [[5, 1]] }]));
    expect(t.times).toEqual([0, 1 / 24, 2 / 24, 3 / 24, 4 / 24]);
    expect(t.lastFrameDuration).toBeCloseTo(1 / 24);
  });

  it('orders B-frames by presentation time and applies the edit list shift', () => {
    // Decode order I P B B with ctts offsets as x264 writes them; the edit list starts the
    // presentation at media time 2 (the first frame's composition offset).
    const t = mp4FrameTimes(
      mp4([{ timescale: 10, stts: [[4, 1]], ctts: [[1, 2], [1, 5], [1, 2], [1, 3]], elst: [[400, 2]] }]),
    );
    // pts: 0+2, 1+5, 2+2, 3+3 -> sorted 2,4,6,6 - 2 -> 0, .2, .4, .4
    expect(t.times).toEqual([0, 0.2, 0.4, 0.4]);
  });

  it('adds leading empty edits and skips non-video tracks', () => {
    const t = mp4FrameTimes(
      mp4([
        { handler: 'soun', timescale: 48000, stts: [[10, 1024]] },
        { timescale: 100, stts: [[3, 10]], elst: [[500, -1], [3000, 0]] },
      ]),
    );
    expect(t.times.map((x) => +x.toFixed(6))).toEqual([0.5, 0.6, 0.7]);
  });

  it('explains what is wrong with files it cannot read', () => {
    expect(() => mp4FrameTimes(new Uint8Array(16).buffer)).toThrow(/moov|overruns/);
    expect(() => mp4FrameTimes(mp4([{ handler: 'soun', timescale: 1, stts: [[1, 1]] }]))).toThrow(/no video track/);
    const truncated = mp4([{ timescale: 24, stts: [[5, 1]] }]).slice(0, -6);
    expect(() => mp4FrameTimes(truncated)).toThrow();
  });

  // Real files: every frame time agrees with what ffprobe (libav, the server's demuxer) reports.
  it('agrees with ffprobe on the gallery videos', (ctx) => {
    const data = process.env.SAM2_DATA ?? resolve(repoDir, '..', 'shared', 'data');
    const gallery = join(data, 'gallery');
    let hasProbe = true;
    try {
      execFileSync('ffprobe', ['-version'], { stdio: 'pipe' });
    } catch {
      hasProbe = false;
    }
    if (!existsSync(gallery) || !hasProbe) {
      console.warn('SKIP: no gallery videos (SAM2_DATA) or no ffprobe');
      ctx.skip();
      return;
    }
    const files = readdirSync(gallery).filter((f) => f.endsWith('.mp4')).slice(0, 2);
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const path = join(gallery, f);
      const buf = readFileSync(path);
      const t = mp4FrameTimes(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
      const probe = execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries',
        'frame=pts_time', '-of', 'csv=p=0', path], { encoding: 'utf8' });
      const expected = probe.split('\n').map((l) => l.split(',')[0].trim()).filter((l) => l !== '').map(Number);
      expect(t.times.length, f).toBe(expected.length);
      for (let i = 0; i < expected.length; i++) expect(t.times[i], `${f} frame ${i}`).toBeCloseTo(expected[i], 5);
    }
  }, 120_000); // ffprobe on every gallery video: slow on a busy machine
});

describe('FrameClock', () => {
  const clock = new FrameClock([0, 0.04, 0.08, 0.125], 0.04);

  it('seeks to the middle of a frame and maps times back to the frame', () => {
    expect(clock.seekTime(0)).toBeCloseTo(0.02);
    expect(clock.seekTime(2)).toBeCloseTo(0.1025);
    expect(clock.seekTime(3)).toBeCloseTo(0.145);
    for (let i = 0; i < clock.frameCount; i++) expect(clock.frameAt(clock.seekTime(i))).toBe(i);
  });

  it('names the frame for a frame start time, even rounded down a little', () => {
    expect(clock.frameAt(0.08)).toBe(2);
    expect(clock.frameAt(0.0799995)).toBe(2); // mediaTime rounded to microseconds
    expect(clock.frameAt(0.078)).toBe(1);
    expect(clock.frameAt(-1)).toBe(0);
    expect(clock.frameAt(99)).toBe(3);
  });

  it('clamps frame indices and reports duration and rate', () => {
    expect(clock.seekTime(-5)).toBe(clock.seekTime(0));
    expect(clock.seekTime(1e9)).toBe(clock.seekTime(3));
    expect(clock.clamp(NaN)).toBe(0);
    expect(clock.duration).toBeCloseTo(0.165);
    expect(FrameClock.constantRate(24, 48).fps).toBeCloseTo(24);
    expect(FrameClock.constantRate(30000 / 1001, 300).frameAt(10 * 1001 / 30000)).toBe(10);
  });

  it('refuses frame lists that cannot be right', () => {
    expect(() => new FrameClock([], 0.04)).toThrow();
    expect(() => new FrameClock([0, 0.1, 0.05], 0.04)).toThrow(/ascending/);
  });

  it('formats times', () => {
    expect(formatClock(0)).toBe('0:00.00');
    expect(formatClock(62.346)).toBe('1:02.35');
  });
});
