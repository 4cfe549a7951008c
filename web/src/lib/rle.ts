// COCO compressed RLE, the mask format of the SAM 2 demo API.
//
// A mask of h x w pixels is read in column-major order (down each column, columns left to
// right) as alternating runs of 0s and 1s, starting with a (possibly empty) run of 0s. The
// `counts` string stores run i as a signed number; from the third run on it stores the
// difference to run i - 2. Each number is written 5 bits at a time, least significant group
// first, as the character 48 + group, with 0x20 set on every group but the last; bit 0x10 of
// the last group is the sign. This is pycocotools' string scheme.

export interface RleMask {
  size: [number, number]; // [height, width]
  counts: string;
}

/** Counts string -> run lengths. Throws on characters or values that cannot be valid. */
export function rleRuns(counts: string): number[] {
  const runs: number[] = [];
  let p = 0;
  while (p < counts.length) {
    let value = 0;
    let shift = 0;
    let more = true;
    while (more) {
      if (p >= counts.length) throw new Error('RLE counts end inside a value');
      const c = counts.charCodeAt(p) - 48;
      if (c < 0 || c > 63) throw new Error(`RLE counts has an invalid character at ${p}`);
      p++;
      // Groups beyond 32 bits cannot come from a real mask; refuse rather than lose bits.
      if (shift > 30) throw new Error('RLE counts value is too large');
      value += (c & 0x1f) * 2 ** shift;
      shift += 5;
      more = (c & 0x20) !== 0;
      if (!more && (c & 0x10) !== 0) value -= 2 ** shift;
    }
    if (runs.length > 2) value += runs[runs.length - 2];
    if (value < 0) throw new Error(`RLE run ${runs.length} is negative`);
    runs.push(value);
  }
  return runs;
}

/** Run lengths -> counts string (the inverse of rleRuns). */
export function rleString(runs: readonly number[]): string {
  let out = '';
  for (let i = 0; i < runs.length; i++) {
    let x = runs[i] - (i > 2 ? runs[i - 2] : 0);
    let more = true;
    while (more) {
      let c = x & 0x1f;
      x = Math.floor(x / 32); // arithmetic shift that also works beyond 32 bits
      more = c & 0x10 ? x !== -1 : x !== 0;
      if (more) c |= 0x20;
      out += String.fromCharCode(c + 48);
    }
  }
  return out;
}

/**
 * Calls `fill(start, end)` for every run of 1s, as column-major index ranges [start, end).
 * Checks that the runs cover exactly h * w pixels.
 */
export function forEachForegroundRun(mask: RleMask, fill: (start: number, end: number) => void): void {
  const [h, w] = mask.size;
  const runs = rleRuns(mask.counts);
  let pos = 0;
  for (let i = 0; i < runs.length; i++) {
    const end = pos + runs[i];
    if (i % 2 === 1 && runs[i] > 0) fill(pos, end);
    pos = end;
  }
  if (pos !== h * w) throw new Error(`RLE runs cover ${pos} pixels, the mask has ${h * w}`);
}

/** Decodes to a row-major array of 0/1 bytes (what a canvas wants). */
export function decodeRle(mask: RleMask): Uint8Array {
  const [h, w] = mask.size;
  const out = new Uint8Array(h * w);
  forEachForegroundRun(mask, (start, end) => {
    let row = start % h;
    let col = (start - row) / h;
    for (let j = start; j < end; j++) {
      out[row * w + col] = 1;
      if (++row === h) {
        row = 0;
        col++;
      }
    }
  });
  return out;
}

/** Encodes a row-major mask (any nonzero byte is foreground). */
export function encodeRle(bits: ArrayLike<number>, h: number, w: number): RleMask {
  if (bits.length !== h * w) throw new Error(`mask has ${bits.length} pixels, expected ${h * w}`);
  const runs: number[] = [];
  let current = 0;
  let run = 0;
  for (let col = 0; col < w; col++) {
    for (let row = 0; row < h; row++) {
      const v = bits[row * w + col] ? 1 : 0;
      if (v !== current) {
        runs.push(run);
        run = 0;
        current = v;
      }
      run++;
    }
  }
  runs.push(run);
  return { size: [h, w], counts: rleString(runs) };
}

/** Number of foreground pixels. */
export function rleArea(mask: RleMask): number {
  let area = 0;
  forEachForegroundRun(mask, (start, end) => {
    area += end - start;
  });
  return area;
}
