// The page: a gallery view and a video view, switched by the URL hash (#/video/<path>) so the
// browser's Back button and reloads work.

import { GraphQLClient, type Video } from '../api/graphql';
import { fileName, h } from './dom';
import { Editor } from './editor';
import { Gallery } from './gallery';

function apiBase(): string {
  // `?api=http://host:port` points the page at another server (for development).
  const param = new URLSearchParams(location.search).get('api');
  if (param) return param.replace(/\/+$/, '');
  // Same origin as the page, at the folder the page is served from.
  const path = location.pathname.replace(/[^/]*$/, '').replace(/\/+$/, '');
  return `${location.origin}${path}`;
}

export class App {
  readonly api = new GraphQLClient(apiBase());
  private readonly main: HTMLElement;
  private readonly live: HTMLElement;
  private readonly title: HTMLElement;
  private readonly model: HTMLElement;
  private readonly back: HTMLButtonElement;
  private gallery: Gallery | null = null;
  private editor: Editor | null = null;
  private knownVideos = new Map<string, Video>();

  constructor(root: HTMLElement) {
    this.live = h('div', { class: 'visually-hidden', 'aria-live': 'polite', id: 'announcer' });
    this.back = h('button', { type: 'button', class: 'back', hidden: true, onclick: () => this.showGallery(true) }, '← All videos');
    this.title = h('span', { class: 'title-video' });
    this.model = h('span', { class: 'model-name', hidden: true, title: 'The model sam2 serve has loaded' });
    this.main = h('main', { id: 'main', tabindex: -1 });
    root.append(
      h('a', { class: 'skip-link', href: '#main' }, 'Skip to content'),
      h(
        'header',
        { class: 'topbar' },
        h('h1', {}, 'sam2c'),
        h('span', { class: 'tagline' }, 'Segment and track objects in video'),
        this.back,
        this.title,
        this.model,
      ),
      this.main,
      this.live,
    );
    window.addEventListener('hashchange', () => this.route());
    window.addEventListener('pagehide', () => this.editor?.closeOnUnload());
  }

  start(): void {
    this.route();
    // Which model answers (sam2c's Query.modelInfo; another backend simply has no badge).
    this.api
      .modelInfo()
      .then((m) => {
        this.model.textContent = `Model: ${m.displayName}`;
        this.model.title = `The model sam2 serve has loaded (${m.name}, ${m.parameters.toLocaleString('en')} parameters)`;
        this.model.dataset.model = m.name;
        this.model.hidden = false;
      })
      .catch(() => undefined);
  }

  announce(text: string): void {
    // Re-set so repeated messages are read again.
    this.live.textContent = '';
    requestAnimationFrame(() => {
      this.live.textContent = text;
    });
  }

  private route(): void {
    const m = /^#\/video\/(.+)$/.exec(location.hash);
    if (m) {
      const path = decodeURIComponent(m[1]);
      const known = this.knownVideos.get(path);
      if (known) {
        this.showEditor(known);
        return;
      }
      // Opened at the video's address (a reload, a link): ask the server for its title and size.
      const bare: Video = { id: '', path, posterPath: null, url: '', posterUrl: null, width: 0, height: 0 };
      this.api
        .video(path)
        .then((v) => v ?? bare)
        .catch(() => bare)
        .then((v) => {
          if (location.hash !== `#/video/${m[1]}`) return;
          this.knownVideos.set(path, v);
          this.showEditor(v);
        });
    } else {
      this.showGallery(false);
    }
  }

  private showGallery(navigate: boolean): void {
    if (navigate && location.hash) {
      history.pushState(null, '', location.pathname + location.search);
    }
    this.editor?.destroy();
    this.editor = null;
    this.back.hidden = true;
    this.title.textContent = '';
    document.title = 'sam2c';
    if (!this.gallery) {
      this.gallery = new Gallery({
        api: this.api,
        open: (v) => this.open(v),
        announce: (t) => this.announce(t),
      });
    }
    this.main.replaceChildren(this.gallery.root);
    const gallery = this.gallery;
    void gallery.load().then(() => {
      for (const v of gallery.videos) this.knownVideos.set(v.path, v);
    });
  }

  private open(video: Video): void {
    this.knownVideos.set(video.path, video);
    const hash = `#/video/${encodeURIComponent(video.path)}`;
    if (location.hash !== hash) {
      history.pushState(null, '', hash);
    }
    this.showEditor(video);
  }

  private showEditor(video: Video): void {
    if (this.editor && this.editor.video.path === video.path) return;
    this.editor?.destroy();
    this.back.hidden = false;
    const title = video.title || fileName(video.path);
    this.title.textContent = title;
    document.title = `${title} · sam2c`;
    this.editor = new Editor(
      { api: this.api, close: () => this.showGallery(true), announce: (t) => this.announce(t) },
      video,
    );
    this.main.replaceChildren(this.editor.root);
    void this.editor.open();
  }

  /** For the browser tests: the editor's state, or null in the gallery. */
  snapshot() {
    return this.editor ? this.editor.snapshot() : null;
  }

  /** For the browser tests: the CPU renderer's bytes for the frame shown. */
  referencePixels() {
    return this.editor ? this.editor.referencePixels() : null;
  }

  /** For the browser tests: the effects.mp4 query of what is drawn. */
  async effectsQuery() {
    return this.editor ? (await this.editor.effectsRequest()).query : null;
  }

  /** For the browser tests: the picture effects.mp4 would be POSTed with (base64 PNG), or null. */
  async effectsPicture() {
    const body = this.editor ? (await this.editor.effectsRequest()).body : undefined;
    if (!body) return null;
    const bytes = new Uint8Array(await body.arrayBuffer());
    let s = '';
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, Array.from(bytes.subarray(i, i + 0x8000)));
    return btoa(s);
  }
}
