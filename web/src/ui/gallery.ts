// The gallery: the server's videos with their posters, and the upload drop zone.

import { ApiError, describe, isAbort } from '../api/errors';
import type { GraphQLClient, Video } from '../api/graphql';
import { uploadVideo } from '../api/upload';
import { clear, fileName, formatBytes, h } from './dom';

export interface GalleryHost {
  api: GraphQLClient;
  open(video: Video): void;
  announce(text: string): void;
}

const ACCEPT = 'video/mp4,video/quicktime,video/webm,.mp4,.mov,.m4v,.webm';

export class Gallery {
  readonly root: HTMLElement;
  private readonly list = h('ul', { class: 'cards', 'aria-label': 'Videos' });
  private readonly state = h('div', { class: 'gallery-state' });
  private readonly fileInput = h('input', { type: 'file', accept: ACCEPT, class: 'visually-hidden', tabindex: -1, id: 'upload-file' });
  private readonly chooseButton = h('button', { type: 'button', class: 'primary' }, 'Choose a video file…');
  private readonly uploadProgress = h('progress', { max: 1, value: 0, hidden: true, 'aria-label': 'Upload progress' });
  private readonly uploadText = h('p', { class: 'upload-text', 'aria-live': 'polite' });
  private readonly uploadCancel = h('button', { type: 'button', hidden: true }, 'Cancel upload');
  private readonly dropZone: HTMLElement;
  private uploadAbort: AbortController | null = null;
  private defaultPath: string | null = null;
  /** The videos of the last successful load. */
  videos: Video[] = [];

  constructor(private readonly host: GalleryHost) {
    this.dropZone = h(
      'div',
      { class: 'dropzone', 'aria-labelledby': 'upload-heading' },
      h('h2', { id: 'upload-heading' }, 'Upload a video'),
      h('p', {}, 'Drop an MP4 or MOV file here (up to 70 MB; the server keeps the first seconds), or'),
      h('div', { class: 'row' }, this.chooseButton, this.uploadCancel),
      this.fileInput,
      this.uploadProgress,
      this.uploadText,
    );
    this.root = h(
      'section',
      { class: 'gallery', 'aria-labelledby': 'gallery-heading' },
      h('div', { class: 'gallery-head' }, h('h2', { id: 'gallery-heading' }, 'Choose a video')),
      this.state,
      this.list,
      this.dropZone,
    );
    this.chooseButton.addEventListener('click', () => this.fileInput.click());
    this.fileInput.addEventListener('change', () => {
      const f = this.fileInput.files?.[0];
      if (f) void this.upload(f);
      this.fileInput.value = '';
    });
    this.uploadCancel.addEventListener('click', () => this.uploadAbort?.abort());
    // The whole gallery accepts a dropped file.
    this.root.addEventListener('dragover', (e) => {
      if (!e.dataTransfer?.types.includes('Files')) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = 'copy';
      this.dropZone.classList.add('dragging');
    });
    this.root.addEventListener('dragleave', (e) => {
      if (e.target === this.root || !this.root.contains(e.relatedTarget as Node | null)) this.dropZone.classList.remove('dragging');
    });
    this.root.addEventListener('drop', (e) => {
      e.preventDefault();
      this.dropZone.classList.remove('dragging');
      const files = e.dataTransfer?.files;
      if (!files || files.length === 0) return;
      if (files.length > 1) {
        this.setUploadText('error', 'Drop one file at a time.');
        return;
      }
      void this.upload(files[0]);
    });
  }

  private setState(kind: 'loading' | 'empty' | 'error' | '', text: string, actions: [string, () => void][] = []): void {
    clear(this.state);
    this.state.dataset.kind = kind;
    this.state.hidden = !kind;
    if (!kind) return;
    this.state.setAttribute('role', kind === 'error' ? 'alert' : 'status');
    this.state.append(h('p', {}, text));
    if (actions.length) {
      this.state.append(h('div', { class: 'row' }, actions.map(([l, fn]) => h('button', { type: 'button', onclick: fn }, l))));
    }
  }

  async load(): Promise<void> {
    clear(this.list);
    this.setState('loading', 'Loading the gallery…');
    let videos: Video[];
    try {
      videos = await this.host.api.gallery();
    } catch (e) {
      const unreachable = e instanceof ApiError && e.kind === 'unreachable';
      this.setState(
        'error',
        unreachable
          ? `The sam2 server cannot be reached at ${this.host.api.base || location.origin}. Is \`sam2 serve\` running? ` +
              `Start it, then try again.`
          : `The gallery could not be loaded: ${describe(e)}`,
        [['Try again', () => void this.load()]],
      );
      return;
    }
    if (videos.length === 0) {
      this.setState('empty', 'The gallery is empty: the server has no videos yet. Upload one below to start.');
      this.chooseButton.focus();
      return;
    }
    this.videos = videos;
    this.setState('', '');
    try {
      this.defaultPath = (await this.host.api.defaultVideo()).path;
    } catch {
      this.defaultPath = null; // the badge is optional
    }
    this.render(videos);
  }

  private render(videos: Video[]): void {
    clear(this.list);
    for (const v of videos) {
      const name = v.title || fileName(v.path);
      const isDefault = v.path === this.defaultPath;
      const poster = v.posterPath ? h('img', { src: this.host.api.url(v.posterPath), alt: '', loading: 'lazy', decoding: 'async' }) : null;
      const card = h(
        'button',
        {
          type: 'button',
          class: 'card',
          'aria-label': `Open ${name}${isDefault ? ' (default video)' : ''}, ${v.width}×${v.height}`,
          dataset: { path: v.path },
          onclick: () => this.host.open(v),
        },
        h('span', { class: 'poster' }, poster ?? h('span', { class: 'no-poster' }, 'No poster')),
        h('span', { class: 'caption' }, h('span', { class: 'name' }, name), isDefault ? h('span', { class: 'badge' }, 'Default') : null),
        h('span', { class: 'meta' }, `${v.width}×${v.height}`),
      );
      if (poster) {
        poster.addEventListener('error', () => poster.replaceWith(h('span', { class: 'no-poster' }, 'Poster unavailable')), { once: true });
      }
      this.list.append(h('li', {}, card));
    }
  }

  private setUploadText(kind: 'busy' | 'error' | 'ok' | '', text: string): void {
    this.uploadText.dataset.kind = kind;
    this.uploadText.textContent = text;
    this.uploadText.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  }

  async upload(file: File): Promise<void> {
    if (this.uploadAbort) return;
    this.uploadAbort = new AbortController();
    this.chooseButton.disabled = true;
    this.uploadCancel.hidden = false;
    this.uploadProgress.hidden = false;
    this.uploadProgress.value = 0;
    this.dropZone.dataset.busy = 'true';
    this.setUploadText('busy', `Uploading ${file.name}…`);
    try {
      const video = await uploadVideo(
        this.host.api.url('graphql'),
        file,
        (p) => {
          if (p.done) {
            this.uploadProgress.removeAttribute('value'); // indeterminate: the server is working
            this.setUploadText('busy', `Uploaded ${formatBytes(file.size)}. The server is checking and converting the video…`);
            return;
          }
          const total = p.total || file.size;
          this.uploadProgress.value = total ? p.loaded / total : 0;
          this.setUploadText(
            'busy',
            `Uploading ${file.name}: ${Math.round((100 * p.loaded) / Math.max(total, 1))}% (${formatBytes(p.loaded)} of ${formatBytes(total)})`,
          );
        },
        this.uploadAbort.signal,
      );
      this.setUploadText('ok', `Uploaded ${file.name}. Opening it…`);
      this.host.announce(`${file.name} uploaded`);
      this.host.open(video);
    } catch (e) {
      this.uploadProgress.hidden = true;
      if (isAbort(e)) this.setUploadText('', 'Upload cancelled.');
      // The server's message, word for word.
      else this.setUploadText('error', `Upload failed: ${describe(e)}`);
    } finally {
      this.uploadAbort = null;
      this.chooseButton.disabled = false;
      this.uploadCancel.hidden = true;
      delete this.dropZone.dataset.busy;
    }
  }
}
