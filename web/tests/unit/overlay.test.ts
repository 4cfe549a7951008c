import { describe, expect, it } from 'vitest';
import { CUTOUT_SHADE, FILL_ALPHA, FILL_ALPHA_SELECTED, renderOverlay } from '../../src/lib/overlay';
import { encodeRle } from '../../src/lib/rle';
import { objectColor } from '../../src/lib/colors';

// A 6x8 frame with a 4x4 square at rows 1..4, columns 2..5.
const H = 6;
const W = 8;
const square = new Uint8Array(H * W);
for (let y = 1; y <= 4; y++) for (let x = 2; x <= 5; x++) square[y * W + x] = 1;
const mask = encodeRle(square, H, W);
const red = [255, 0, 0] as const;
const blue = [0, 0, 255] as const;

function pixel(buf: Uint8ClampedArray, x: number, y: number): number[] {
  const o = (y * W + x) * 4;
  return Array.from(buf.subarray(o, o + 4));
}

describe('mask overlay', () => {
  it('fills each object translucently, in its colour, only where its mask is', () => {
    const buf = new Uint8ClampedArray(W * H * 4);
    renderOverlay(buf, W, H, [{ mask, color: red }], 'filled');
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        expect(pixel(buf, x, y)).toEqual(square[y * W + x] ? [255, 0, 0, FILL_ALPHA] : [0, 0, 0, 0]);
      }
    }
    renderOverlay(buf, W, H, [{ mask, color: red, highlight: true }], 'filled');
    expect(pixel(buf, 3, 3)[3]).toBe(FILL_ALPHA_SELECTED);
  });

  it('paints later objects over earlier ones', () => {
    const other = new Uint8Array(H * W);
    other[2 * W + 3] = 1;
    const buf = new Uint8ClampedArray(W * H * 4);
    renderOverlay(buf, W, H, [{ mask, color: red }, { mask: encodeRle(other, H, W), color: blue }], 'filled');
    expect(pixel(buf, 3, 2)).toEqual([0, 0, 255, FILL_ALPHA]);
    expect(pixel(buf, 4, 2)).toEqual([255, 0, 0, FILL_ALPHA]);
  });

  it('outlines: opaque border pixels, hollow inside, nothing outside', () => {
    const big = new Uint8Array(12 * 12);
    for (let y = 1; y <= 10; y++) for (let x = 1; x <= 10; x++) big[y * 12 + x] = 1;
    const buf = new Uint8ClampedArray(12 * 12 * 4);
    renderOverlay(buf, 12, 12, [{ mask: encodeRle(big, 12, 12), color: blue }], 'outlined');
    const at = (x: number, y: number) => Array.from(buf.subarray((y * 12 + x) * 4, (y * 12 + x) * 4 + 4));
    expect(at(1, 1)).toEqual([0, 0, 255, 255]); // corner of the square
    expect(at(2, 5)).toEqual([0, 0, 255, 255]); // 2 pixels in: still the border
    expect(at(5, 5)).toEqual([0, 0, 0, 0]); // inside
    expect(at(0, 0)).toEqual([0, 0, 0, 0]); // outside
  });

  it('cut-out: veils the background, keeps objects clear with a thin edge', () => {
    const buf = new Uint8ClampedArray(W * H * 4);
    renderOverlay(buf, W, H, [{ mask, color: red }], 'cutout');
    expect(pixel(buf, 0, 0)).toEqual([0, 0, 0, CUTOUT_SHADE]);
    expect(pixel(buf, 2, 1)).toEqual([255, 0, 0, 255]); // edge of the square
    expect(pixel(buf, 3, 2)).toEqual([0, 0, 0, 0]); // inside: the frame shows through
    const none = new Uint8ClampedArray(W * H * 4);
    renderOverlay(none, W, H, [], 'cutout');
    expect(none.every((v, i) => (i % 4 === 3 ? v === CUTOUT_SHADE : v === 0))).toBe(true);
  });

  it('refuses masks of another size instead of drawing them shifted', () => {
    const buf = new Uint8ClampedArray(W * H * 4);
    const small = encodeRle(new Uint8Array(4), 2, 2);
    expect(() => renderOverlay(buf, W, H, [{ mask: small, color: red }], 'filled')).toThrow(/2x2/);
    expect(() => renderOverlay(new Uint8ClampedArray(3), W, H, [], 'filled')).toThrow(/wrong size/);
  });
});

describe('object colours', () => {
  it('stay distinct for many objects', () => {
    const colors = Array.from({ length: 40 }, (_, i) => objectColor(i));
    for (let i = 0; i < colors.length; i++) {
      for (let j = 0; j < i; j++) {
        const d = Math.abs(colors[i][0] - colors[j][0]) + Math.abs(colors[i][1] - colors[j][1]) + Math.abs(colors[i][2] - colors[j][2]);
        // Neighbours in the list are very different; any two are at least distinguishable.
        expect(d, `colours ${j} and ${i}`).toBeGreaterThan(j === i - 1 ? 150 : 12);
      }
    }
  });
});
