// Incremental parser for the `multipart/x-savi-stream` body of POST /propagate_in_video.
//
// The server writes one part per tracked frame and flushes it at once:
//   --frame\r\n  Header: value\r\n ... Content-Length: n\r\n  \r\n  <n bytes of JSON>
// Blank lines may precede a boundary; there is no closing delimiter. Chunks from the network
// split parts anywhere, so the parser keeps the unconsumed tail between calls. It is as strict
// as the official client: a wrong boundary, a header line without ": ", or a part without a
// numeric Content-Length is an error, and so is a stream that ends inside a part.

export interface StreamPart {
  headers: Map<string, string>; // names lower-cased
  body: Uint8Array;
}

const CR = 13;
const LF = 10;

/** The boundary parameter of a multipart Content-Type, or null when there is none. */
export function multipartBoundary(contentType: string | null): string | null {
  if (!contentType) return null;
  const [type, ...params] = contentType.split(';');
  if (!type.trim().toLowerCase().startsWith('multipart/')) return null;
  for (const param of params) {
    const eq = param.indexOf('=');
    if (eq < 0) continue;
    if (param.slice(0, eq).trim().toLowerCase() !== 'boundary') continue;
    let value = param.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    return value || null;
  }
  return null;
}

type State = 'boundary' | 'headers' | 'body';

export class MultipartParser {
  private readonly delimiter: Uint8Array;
  private buf = new Uint8Array(0);
  private pos = 0;
  private state: State = 'boundary';
  private headers = new Map<string, string>();
  private length = 0;
  private readonly text = new TextDecoder();

  constructor(boundary: string) {
    this.delimiter = new TextEncoder().encode(`--${boundary}\r\n`);
  }

  /** Feeds the next chunk; returns the parts it completed (possibly none). */
  push(chunk: Uint8Array): StreamPart[] {
    this.append(chunk);
    const parts: StreamPart[] = [];
    for (;;) {
      const part = this.step();
      if (part === 'need-more') break;
      if (part) parts.push(part);
    }
    // Drop consumed bytes so the buffer holds at most one partial part.
    if (this.pos > 0) {
      this.buf = this.buf.slice(this.pos);
      this.pos = 0;
    }
    return parts;
  }

  /** Call when the body ends: throws if it ended inside a part. */
  finish(): void {
    const rest = this.buf.length - this.pos;
    const onlyBlankLines = this.state === 'boundary' && this.isBlankTail();
    if (this.state !== 'boundary' || (rest > 0 && !onlyBlankLines)) {
      throw new Error('the tracking stream ended in the middle of a frame');
    }
  }

  private isBlankTail(): boolean {
    for (let i = this.pos; i < this.buf.length; i += 2) {
      if (this.buf[i] !== CR || this.buf[i + 1] !== LF) return false;
    }
    return true;
  }

  private append(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    const rest = this.buf.length - this.pos;
    const next = new Uint8Array(rest + chunk.length);
    next.set(this.buf.subarray(this.pos), 0);
    next.set(chunk, rest);
    this.buf = next;
    this.pos = 0;
  }

  /** Advances by one token; returns a finished part, null for progress, or 'need-more'. */
  private step(): StreamPart | null | 'need-more' {
    const buf = this.buf;
    switch (this.state) {
      case 'boundary': {
        while (this.pos + 1 < buf.length && buf[this.pos] === CR && buf[this.pos + 1] === LF) this.pos += 2;
        // A lone CR at the end may be the first half of a blank line.
        if (this.pos + 1 === buf.length && buf[this.pos] === CR) return 'need-more';
        const d = this.delimiter;
        const avail = Math.min(d.length, buf.length - this.pos);
        for (let i = 0; i < avail; i++) {
          if (buf[this.pos + i] !== d[i]) throw new Error('bad part boundary in the tracking stream');
        }
        if (avail < d.length) return 'need-more';
        this.pos += d.length;
        this.state = 'headers';
        this.headers = new Map();
        return null;
      }
      case 'headers': {
        const cr = buf.indexOf(CR, this.pos);
        if (cr < 0 || cr + 1 >= buf.length) return 'need-more';
        if (buf[cr + 1] !== LF) throw new Error('bad header line in the tracking stream (CR without LF)');
        const line = this.text.decode(buf.subarray(this.pos, cr));
        this.pos = cr + 2;
        if (line === '') {
          const raw = this.headers.get('content-length');
          if (raw === undefined || !/^\s*\d+\s*$/.test(raw)) {
            throw new Error('a part of the tracking stream has no valid Content-Length');
          }
          this.length = parseInt(raw, 10);
          this.state = 'body';
          return null;
        }
        const colon = line.indexOf(': ');
        if (colon <= 0) throw new Error(`bad header line in the tracking stream: ${JSON.stringify(line)}`);
        this.headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 2));
        return null;
      }
      case 'body': {
        if (buf.length - this.pos < this.length) return 'need-more';
        const body = buf.slice(this.pos, this.pos + this.length);
        this.pos += this.length;
        this.state = 'boundary';
        return { headers: this.headers, body };
      }
    }
  }
}
