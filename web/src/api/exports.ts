// Downloads rendered by the server: GET /export/<session_id>/masks.json | masks.zip | overlay.mp4
// | effects.mp4?<scene> (POSTed with the background picture when the scene replaces it).

import { errorFromResponse, fetchOrExplain } from './errors';

export type ExportKind = 'masks.json' | 'masks.zip' | 'overlay.mp4' | 'effects.mp4';

export function exportUrl(base: string, sessionId: string, kind: ExportKind, query = ''): string {
  return `${base}/export/${encodeURIComponent(sessionId)}/${kind}${query ? `?${query}` : ''}`;
}

/** Fetches an export (reporting bytes received) and returns it as a Blob. */
export async function fetchExport(
  base: string,
  sessionId: string,
  kind: ExportKind,
  onProgress: (received: number, total: number) => void,
  signal?: AbortSignal,
  query = '',
  body?: Blob,
): Promise<Blob> {
  const init: RequestInit = body
    ? { method: 'POST', body, headers: { 'Content-Type': body.type || 'image/png' }, signal, credentials: 'same-origin' }
    : { signal, credentials: 'same-origin' };
  const res = await fetchOrExplain(exportUrl(base, sessionId, kind, query), init, 'Export');
  if (!res.ok) throw await errorFromResponse(res, `Export of ${kind}`);
  const total = Number(res.headers.get('Content-Length') ?? 0) || 0;
  const type = res.headers.get('Content-Type') ?? 'application/octet-stream';
  if (!res.body) return new Blob([await res.arrayBuffer()], { type });
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    received += value.length;
    onProgress(received, total);
  }
  return new Blob(chunks as BlobPart[], { type });
}

/** Hands a Blob to the browser as a file download. */
export function saveBlob(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.rel = 'noopener';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
