// Video upload: one GraphQL multipart request (operations / map / file, the GraphQL multipart
// request spec) sent with XMLHttpRequest, the one browser API that reports upload progress.

import { ApiError, isExpiredMessage, serverMessage } from './errors';
import { UPLOAD_DOCUMENT, graphqlResult, type Video } from './graphql';

export interface UploadProgress {
  loaded: number;
  total: number; // 0 when unknown
  done: boolean; // all bytes sent; the server is now checking and transcoding
}

export function uploadForm(file: Blob, fileName: string): FormData {
  const form = new FormData();
  form.append('operations', JSON.stringify({ query: UPLOAD_DOCUMENT, variables: { file: null } }));
  form.append('map', JSON.stringify({ file: ['variables.file'] }));
  form.append('file', file, fileName);
  return form;
}

export function uploadVideo(
  graphqlUrl: string,
  file: File,
  onProgress: (p: UploadProgress) => void,
  signal?: AbortSignal,
): Promise<Video> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', graphqlUrl);
    xhr.responseType = 'text';
    xhr.upload.onprogress = (e) => onProgress({ loaded: e.loaded, total: e.lengthComputable ? e.total : 0, done: false });
    xhr.upload.onload = () => onProgress({ loaded: file.size, total: file.size, done: true });
    xhr.onerror = () => reject(new ApiError('unreachable', 'The upload could not reach the sam2 server'));
    xhr.ontimeout = () => reject(new ApiError('unreachable', 'The upload timed out'));
    xhr.onabort = () => reject(new DOMException('upload cancelled', 'AbortError'));
    xhr.onload = () => {
      const text = xhr.responseText ?? '';
      let answer: { data?: { uploadVideo: Video } | null; errors?: { message: string }[] } | null = null;
      try {
        answer = JSON.parse(text);
      } catch {
        answer = null;
      }
      if (answer && (answer.errors?.length || answer.data)) {
        try {
          resolve(graphqlResult(answer, 'Uploading').uploadVideo);
        } catch (e) {
          reject(e);
        }
        return;
      }
      // Not a GraphQL answer: show what the server said, verbatim, with its status.
      const message = serverMessage(text) ?? `the server answered HTTP ${xhr.status} ${xhr.statusText}`.trim();
      reject(new ApiError(isExpiredMessage(message) ? 'expired' : 'http', message, xhr.status));
    };
    signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(uploadForm(file, file.name));
  });
}
