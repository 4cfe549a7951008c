import { describe, expect, it } from 'vitest';
import { MultipartParser, multipartBoundary } from '../../src/lib/multipart';

const enc = new TextEncoder();
const dec = new TextDecoder();

// A part exactly as `sam2 serve` (and the official backend) writes it.
function part(json: string): string {
  const body = enc.encode(json);
  return (
    '--frame\r\n' +
    'Content-Type: application/json; charset=utf-8\r\n' +
    'Frame-Current: -1\r\n' +
    'Frame-Total: -1\r\n' +
    'Mask-Type: RLE[]\r\n' +
    `Content-Length: ${body.length}\r\n` +
    '\r\n' +
    json
  );
}

const bodies = [
  '{"frame_index": 0, "results": [{"object_id": 1, "mask": {"size": [2, 3], "counts": "141"}}]}',
  '{"frame_index": 1, "results": []}',
  '{"frame_index": 2, "results": [{"object_id": 7, "mask": {"size": [4, 4], "counts": "é€"}}]}', // multi-byte UTF-8
];
const stream = enc.encode(bodies.map(part).join(''));

function feed(chunks: Uint8Array[]): string[] {
  const p = new MultipartParser('frame');
  const out: string[] = [];
  for (const c of chunks) for (const part of p.push(c)) out.push(dec.decode(part.body));
  p.finish();
  return out;
}

describe('multipart/x-savi-stream parser', () => {
  it('reads the boundary from the Content-Type', () => {
    expect(multipartBoundary('multipart/x-savi-stream; boundary=frame')).toBe('frame');
    expect(multipartBoundary('multipart/x-savi-stream;boundary="a b"')).toBe('a b');
    expect(multipartBoundary('application/json')).toBeNull();
    expect(multipartBoundary(null)).toBeNull();
  });

  it('parses a whole stream in one chunk, with headers', () => {
    const p = new MultipartParser('frame');
    const parts = p.push(stream);
    expect(parts.map((x) => dec.decode(x.body))).toEqual(bodies);
    expect(parts[0].headers.get('mask-type')).toBe('RLE[]');
    expect(parts[0].headers.get('content-type')).toBe('application/json; charset=utf-8');
    p.finish();
  });

  it('gives the same parts for every split point into two chunks', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      expect(feed([stream.slice(0, cut), stream.slice(cut)])).toEqual(bodies);
    }
  });

  it('gives the same parts when fed one byte at a time', () => {
    const chunks = Array.from(stream, (b) => Uint8Array.of(b));
    expect(feed(chunks)).toEqual(bodies);
  });

  it('emits each part as soon as its last byte arrives', () => {
    const p = new MultipartParser('frame');
    const first = enc.encode(part(bodies[0]));
    expect(p.push(first.slice(0, first.length - 1))).toHaveLength(0);
    expect(p.push(first.slice(first.length - 1))).toHaveLength(1);
  });

  it('accepts blank lines before a boundary', () => {
    const s = enc.encode('\r\n\r\n' + part(bodies[0]) + '\r\n' + part(bodies[1]) + '\r\n');
    expect(feed([s])).toEqual(bodies.slice(0, 2));
  });

  it('rejects what the official client rejects', () => {
    const bad = (text: string) => () => {
      const p = new MultipartParser('frame');
      p.push(enc.encode(text));
      p.finish();
    };
    expect(bad('--other\r\n')).toThrow(/boundary/);
    expect(bad('--frame\r\nContent-Length 3\r\n\r\nabc')).toThrow(/header line/);
    expect(bad('--frame\r\nContent-Length: x\r\n\r\nabc')).toThrow(/Content-Length/);
    expect(bad('--frame\r\nContent-Type: a\r\n\r\n')).toThrow(/Content-Length/);
    expect(bad('--frame\r\nX: y\rZ\n')).toThrow(/CR without LF/);
    expect(bad('--frame\r\nContent-Length: 5\r\n\r\nabc')).toThrow(/ended in the middle/);
    expect(bad('--fra')).toThrow(/ended in the middle/);
  });

  it('ends cleanly between parts (a cancelled stream)', () => {
    const p = new MultipartParser('frame');
    expect(p.push(enc.encode(part(bodies[0])))).toHaveLength(1);
    expect(() => p.finish()).not.toThrow();
  });
});
