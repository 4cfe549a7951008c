// Frame timestamps of the first video track of an MP4 / QuickTime file.
//
// The server numbers frames in presentation order (frame 0 is the first frame shown), so the
// page needs the presentation time of every frame to seek the <video> element to exactly the
// frame a mask belongs to. Those times are in the sample tables: decode times from `stts`,
// composition offsets from `ctts` (B-frames), shifted by the track's edit list (`elst`), which
// is what browsers apply to `currentTime` as well.

interface Box {
  type: string;
  start: number; // first byte of the payload
  end: number; // one past the last byte of the box
}

class Reader {
  constructor(private readonly view: DataView) {}
  get length(): number {
    return this.view.byteLength;
  }
  u8(at: number): number {
    return this.view.getUint8(at);
  }
  u32(at: number): number {
    return this.view.getUint32(at);
  }
  i32(at: number): number {
    return this.view.getInt32(at);
  }
  u64(at: number): number {
    return this.view.getUint32(at) * 2 ** 32 + this.view.getUint32(at + 4);
  }
  i64(at: number): number {
    return this.view.getInt32(at) * 2 ** 32 + this.view.getUint32(at + 4);
  }
  type(at: number): string {
    let s = '';
    for (let i = 0; i < 4; i++) s += String.fromCharCode(this.view.getUint8(at + i));
    return s;
  }
}

function children(r: Reader, start: number, end: number): Box[] {
  const boxes: Box[] = [];
  let at = start;
  while (at + 8 <= end) {
    let size = r.u32(at);
    const type = r.type(at + 4);
    let header = 8;
    if (size === 1) {
      if (at + 16 > end) break;
      size = r.u64(at + 8);
      header = 16;
    } else if (size === 0) {
      size = end - at;
    }
    if (size < header || at + size > end) throw new Error(`MP4 box '${type}' overruns its parent`);
    boxes.push({ type, start: at + header, end: at + size });
    at += size;
  }
  return boxes;
}

function child(r: Reader, parent: Box, type: string): Box | undefined {
  return children(r, parent.start, parent.end).find((b) => b.type === type);
}

function need(box: Box | undefined, what: string): Box {
  if (!box) throw new Error(`MP4 has no '${what}' box`);
  return box;
}

function checkSize(box: Box, bytes: number, what: string): void {
  if (box.start + bytes > box.end) throw new Error(`MP4 '${what}' box is truncated`);
}

export interface TrackTiming {
  /** Presentation time in seconds of every frame, ascending; frame i is times[i]. */
  times: number[];
  /** Duration of the last frame, seconds (for seeking to it and for the total). */
  lastFrameDuration: number;
}

function movieTimescale(r: Reader, moov: Box): number {
  const mvhd = need(child(r, moov, 'mvhd'), 'mvhd');
  const v1 = r.u8(mvhd.start) === 1;
  checkSize(mvhd, v1 ? 24 : 16, 'mvhd');
  return r.u32(mvhd.start + (v1 ? 20 : 12));
}

function trackTimescale(r: Reader, mdia: Box): number {
  const mdhd = need(child(r, mdia, 'mdhd'), 'mdhd');
  const v1 = r.u8(mdhd.start) === 1;
  checkSize(mdhd, v1 ? 24 : 16, 'mdhd');
  return r.u32(mdhd.start + (v1 ? 20 : 12));
}

function handlerType(r: Reader, mdia: Box): string {
  const hdlr = child(r, mdia, 'hdlr');
  if (!hdlr) return '';
  checkSize(hdlr, 12, 'hdlr');
  return r.type(hdlr.start + 8);
}

/** Decode-order sample durations from stts. */
function sampleDeltas(r: Reader, stbl: Box): number[] {
  const stts = need(child(r, stbl, 'stts'), 'stts');
  checkSize(stts, 8, 'stts');
  const n = r.u32(stts.start + 4);
  checkSize(stts, 8 + 8 * n, 'stts');
  const deltas: number[] = [];
  for (let i = 0; i < n; i++) {
    const count = r.u32(stts.start + 8 + 8 * i);
    const delta = r.u32(stts.start + 12 + 8 * i);
    if (deltas.length + count > 10_000_000) throw new Error('MP4 has an implausible number of frames');
    for (let k = 0; k < count; k++) deltas.push(delta);
  }
  return deltas;
}

/** Composition offsets from ctts (zeros when the track has none). */
function compositionOffsets(r: Reader, stbl: Box, samples: number): number[] {
  const offsets = new Array<number>(samples).fill(0);
  const ctts = child(r, stbl, 'ctts');
  if (!ctts) return offsets;
  checkSize(ctts, 8, 'ctts');
  const n = r.u32(ctts.start + 4);
  checkSize(ctts, 8 + 8 * n, 'ctts');
  let s = 0;
  for (let i = 0; i < n && s < samples; i++) {
    const count = r.u32(ctts.start + 8 + 8 * i);
    // Version 0 offsets are unsigned in the spec, but encoders write negative ones there too.
    const offset = r.i32(ctts.start + 12 + 8 * i);
    for (let k = 0; k < count && s < samples; k++) offsets[s++] = offset;
  }
  return offsets;
}

/** The edit list's shift: media time of the first presented sample, plus leading empty edits. */
function editShift(r: Reader, trak: Box, movieScale: number): { mediaTime: number; emptySeconds: number } {
  const shift = { mediaTime: 0, emptySeconds: 0 };
  const edts = child(r, trak, 'edts');
  const elst = edts && child(r, edts, 'elst');
  if (!elst) return shift;
  checkSize(elst, 8, 'elst');
  const v1 = r.u8(elst.start) === 1;
  const n = r.u32(elst.start + 4);
  const entry = v1 ? 20 : 12;
  checkSize(elst, 8 + entry * n, 'elst');
  for (let i = 0; i < n; i++) {
    const at = elst.start + 8 + entry * i;
    const duration = v1 ? r.u64(at) : r.u32(at);
    const mediaTime = v1 ? r.i64(at + 8) : r.i32(at + 4);
    if (mediaTime === -1) {
      if (movieScale > 0) shift.emptySeconds += duration / movieScale;
      continue;
    }
    shift.mediaTime = mediaTime;
    break;
  }
  return shift;
}

/** Reads the first video track's frame times. Throws with a reason when it cannot. */
export function mp4FrameTimes(data: ArrayBuffer): TrackTiming {
  const r = new Reader(new DataView(data));
  const top = children(r, 0, r.length);
  if (top.some((b) => b.type === 'moof') && !top.some((b) => b.type === 'moov')) {
    throw new Error('fragmented MP4 is not supported');
  }
  const moov = need(top.find((b) => b.type === 'moov'), 'moov');
  const movieScale = movieTimescale(r, moov);
  for (const trak of children(r, moov.start, moov.end).filter((b) => b.type === 'trak')) {
    const mdia = child(r, trak, 'mdia');
    if (!mdia || handlerType(r, mdia) !== 'vide') continue;
    const scale = trackTimescale(r, mdia);
    if (!scale) throw new Error('MP4 video track has a zero timescale');
    const minf = need(child(r, mdia, 'minf'), 'minf');
    const stbl = need(child(r, minf, 'stbl'), 'stbl');
    const deltas = sampleDeltas(r, stbl);
    if (deltas.length === 0) throw new Error('MP4 video track has no frames');
    const offsets = compositionOffsets(r, stbl, deltas.length);
    const shift = editShift(r, trak, movieScale);
    const pts: number[] = [];
    let dts = 0;
    for (let i = 0; i < deltas.length; i++) {
      pts.push(dts + offsets[i]);
      dts += deltas[i];
    }
    pts.sort((a, b) => a - b);
    const times = pts.map((t) => (t - shift.mediaTime) / scale + shift.emptySeconds);
    // The last frame lasts as long as the decode delta of the sample that presents last.
    const lastDelta = deltas[deltas.length - 1] || (deltas.length > 1 ? deltas[deltas.length - 2] : 0);
    return { times, lastFrameDuration: lastDelta / scale };
  }
  throw new Error('MP4 has no video track');
}
