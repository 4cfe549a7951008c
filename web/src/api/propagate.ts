// POST /propagate_in_video: masks for every frame, streamed as multipart/x-savi-stream parts
// and handed over one frame at a time as they arrive.

import { ApiError, errorFromResponse, fetchOrExplain } from './errors';
import { MultipartParser, multipartBoundary } from '../lib/multipart';
import type { RleMask } from '../lib/rle';

export interface StreamedFrame {
  frameIndex: number;
  masks: { objectId: number; mask: RleMask }[];
}

interface WireFrame {
  frame_index?: unknown;
  results?: { object_id?: unknown; mask?: { size?: unknown; counts?: unknown } }[];
}

/** Reads one part's JSON body (snake_case, as the official backend writes it). */
export function parseFramePart(body: Uint8Array): StreamedFrame {
  let wire: WireFrame;
  try {
    wire = JSON.parse(new TextDecoder().decode(body)) as WireFrame;
  } catch {
    throw new ApiError('protocol', 'a frame of the tracking stream is not JSON');
  }
  if (typeof wire.frame_index !== 'number' || !Array.isArray(wire.results)) {
    throw new ApiError('protocol', 'a frame of the tracking stream has no frame_index or results');
  }
  const masks = wire.results.map((r) => {
    const size = r.mask?.size;
    if (
      typeof r.object_id !== 'number' ||
      !Array.isArray(size) ||
      size.length !== 2 ||
      typeof r.mask?.counts !== 'string'
    ) {
      throw new ApiError('protocol', `frame ${wire.frame_index} of the tracking stream has a malformed mask`);
    }
    return { objectId: r.object_id, mask: { size: [Number(size[0]), Number(size[1])], counts: r.mask.counts } as RleMask };
  });
  return { frameIndex: wire.frame_index, masks };
}

/**
 * Runs a propagation; resolves with the number of frames received when the server ends the
 * stream. Rejects with AbortError when `signal` aborts, ApiError otherwise. When onFrame returns
 * a promise, the next frame is read only once it settles (the page's display keeps up so; the
 * server waits for a slow reader as for a slow network).
 */
export async function propagate(
  url: string,
  sessionId: string,
  startFrameIndex: number,
  signal: AbortSignal,
  onFrame: (frame: StreamedFrame) => void | Promise<void>,
): Promise<number> {
  const res = await fetchOrExplain(
    url,
    {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ session_id: sessionId, start_frame_index: startFrameIndex }),
      signal,
      credentials: 'same-origin',
    },
    'Tracking',
  );
  if (!res.ok) throw await errorFromResponse(res, 'Tracking');
  const contentType = res.headers.get('Content-Type');
  const boundary = multipartBoundary(contentType);
  if (!boundary || !res.body) {
    throw new ApiError('protocol', `Tracking: expected a multipart/x-savi-stream answer, got ${contentType ?? 'none'}`);
  }
  const parser = new MultipartParser(boundary);
  const reader = res.body.getReader();
  let frames = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      for (const part of parser.push(value)) {
        const wait = onFrame(parseFramePart(part.body));
        frames++;
        if (wait) await wait;
        if (signal.aborted) throw new DOMException('tracking cancelled', 'AbortError');
      }
    }
    parser.finish();
  } catch (e) {
    reader.cancel().catch(() => undefined);
    if (e instanceof ApiError || (e instanceof DOMException && e.name === 'AbortError')) throw e;
    if (signal.aborted) throw new DOMException('tracking cancelled', 'AbortError');
    throw new ApiError('protocol', e instanceof Error ? e.message : String(e));
  }
  return frames;
}
