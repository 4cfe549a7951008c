import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeRle, encodeRle, rleArea, rleRuns, rleString } from '../../src/lib/rle';
import { goldenDir, repoDir } from './paths';

function bitsOf(rows: string[]): Uint8Array {
  return Uint8Array.from(rows.join('').split('').map(Number));
}

describe('COCO RLE, hand-made cases', () => {
  it('decodes column-major runs into a row-major mask', () => {
    // 2x3 mask [[0,1,1],[1,1,0]]: columns read (0,1) (1,1) (1,0) -> runs 1 zero, 4 ones, 1 zero.
    expect(rleRuns('141')).toEqual([1, 4, 1]);
    expect(Array.from(decodeRle({ size: [2, 3], counts: '141' }))).toEqual([0, 1, 1, 1, 1, 0]);
  });

  it('reads differences to run i-2 and their sign', () => {
    // 'O' = 31 with the sign bit: -1, added to run 1 (2) gives 1.
    expect(rleRuns('023O')).toEqual([0, 2, 3, 1]);
    expect(rleString([0, 2, 3, 1])).toBe('023O');
  });

  it('reads multi-character values (5 bits per character, low first)', () => {
    // 100 = 4 + 3*32: '4'|0x20 = 'T', then '3'.
    expect(rleRuns('T3')).toEqual([100]);
    expect(rleString([100])).toBe('T3');
    expect(decodeRle({ size: [10, 10], counts: 'T3' }).every((v) => v === 0)).toBe(true);
  });

  it('handles masks that start with foreground (empty first run)', () => {
    const m = encodeRle(bitsOf(['11', '10']), 2, 2);
    expect(rleRuns(m.counts)).toEqual([0, 3, 1]);
    expect(Array.from(decodeRle(m))).toEqual([1, 1, 1, 0]);
    expect(rleArea(m)).toBe(3);
  });

  it('round-trips large run lengths', () => {
    const runs = [1_000_000, 3, 2_000_000, 77, 5, 123_456_789];
    expect(rleRuns(rleString(runs))).toEqual(runs);
  });

  it('rejects invalid strings instead of guessing', () => {
    expect(() => rleRuns('1 2')).toThrow(/invalid character/);
    expect(() => rleRuns('T')).toThrow(/inside a value/); // continuation bit set on the last char
    expect(() => decodeRle({ size: [2, 2], counts: '3' })).toThrow(/cover 3 pixels/);
    expect(() => rleRuns('1O')).toThrow(/negative/); // a run of -1
    expect(() => rleRuns('ooooooooo1')).toThrow(/too large/);
  });
});

// The project's C encoder (src/io/rle.c, what `sam2 serve` sends) against the TS decoder.
describe('COCO RLE against the C encoder', () => {
  let cases: { h: number; w: number; bits: string; counts: string }[] = [];
  let skip = '';
  let work = '';

  beforeAll(() => {
    const sources = ['web/tests/unit/helpers/rle_cases.c', 'src/io/rle.c', 'src/core/error.c'].map((p) =>
      resolve(repoDir, p),
    );
    if (!sources.every(existsSync)) {
      skip = 'C sources not found';
      return;
    }
    work = mkdtempSync(join(tmpdir(), 'sam2-web-rle-'));
    const exe = join(work, 'rle_cases');
    try {
      execFileSync(process.env.CC ?? 'cc', ['-std=c11', '-D_GNU_SOURCE', '-O1', '-I', resolve(repoDir, 'include'),
        '-I', resolve(repoDir, 'src'), '-o', exe, ...sources], { stdio: 'pipe' });
    } catch (e) {
      skip = `no C compiler could build the helper: ${String(e).split('\n')[0]}`;
      return;
    }
    const out = execFileSync(exe, { encoding: 'utf8' });
    cases = out.trim().split('\n').map((l) => JSON.parse(l));
  });

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('decodes every mask the C encoder wrote, and encodes to the same string', (ctx) => {
    if (skip) {
      console.warn(`SKIP: ${skip}`);
      ctx.skip();
    }
    expect(cases.length).toBeGreaterThan(30);
    for (const c of cases) {
      const expected = Uint8Array.from(c.bits.split('').map(Number));
      const decoded = decodeRle({ size: [c.h, c.w], counts: c.counts });
      expect(Buffer.from(decoded).equals(Buffer.from(expected)), `${c.h}x${c.w} ${c.counts}`).toBe(true);
      expect(encodeRle(expected, c.h, c.w).counts).toBe(c.counts);
    }
  });
});

// pycocotools' own strings (the golden demo responses) decode to whole masks and re-encode
// byte for byte.
describe('COCO RLE against pycocotools strings', () => {
  it('round-trips the golden demo responses', (ctx) => {
    const golden = goldenDir();
    const file = golden && join(golden, 'micro_golden', 'video', 'demo', 'responses.json');
    if (!file || !existsSync(file)) {
      console.warn('SKIP: golden data not found (set SAM2_GOLDEN)');
      ctx.skip();
      return;
    }
    const responses = JSON.parse(readFileSync(file, 'utf8')) as {
      response: { results?: { mask: { size: [number, number]; counts: string } }[] };
    }[];
    let checked = 0;
    for (const r of responses) {
      for (const result of r.response.results ?? []) {
        const [h, w] = result.mask.size;
        const bits = decodeRle(result.mask);
        expect(bits.length).toBe(h * w);
        expect(encodeRle(bits, h, w).counts).toBe(result.mask.counts);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(10);
  });
});
