// The video view: one session on one video, in three steps (select objects, track, effects and
// export). Prompts in (points, boxes, undo / redo), masks out, tracking that the display follows,
// effects drawn live, exports.

import { ApiError, describe, isAbort } from '../api/errors';
import { fetchExport, saveBlob, type ExportKind } from '../api/exports';
import type { FrameMasks, GraphQLClient, Video } from '../api/graphql';
import { propagate } from '../api/propagate';
import {
  BACKGROUND_EFFECTS,
  OBJECT_EFFECTS,
  backgroundEffect,
  buildLabels,
  replaceSource,
  sceneQuery,
  type Choice,
  type Scene,
} from '../lib/effects';
import { formatClock } from '../lib/frames';
import { decodeRle } from '../lib/rle';
import { clear, fileName, formatBytes, h } from './dom';
import { EffectsView, type Background } from './effects_view';
import { Filmstrip } from './filmstrip';
import { ObjectRows } from './object_rows';
import { FramePlayer } from './player';
import { Stage, type PointInput } from './stage';
import {
  History,
  MaskStore,
  NO_PROMPTS,
  ObjectList,
  isEmpty,
  promptPoints,
  samePrompts,
  type Box,
  type Prompts,
  type TrackedObject,
} from './store';

export interface EditorHost {
  api: GraphQLClient;
  /** Leaves the editor (back to the gallery). */
  close(): void;
  announce(text: string): void;
}

type Phase = 'loading' | 'ready' | 'tracking' | 'expired' | 'failed';
type Step = 1 | 2 | 3;

interface TrackRun {
  abort: AbortController;
  started: number;
  received: number;
  expected: number;
  frames: Set<number>;
  arrival: Map<number, number>; // frame -> its position in the stream (the latest arrival)
  last: number; // the frame that arrived last
  maxLag: number; // the most streamed frames the display was behind, sampled every animation frame
  samples: number;
  stalls: number; // times the display did not move for FOLLOW_STALL_MS
  cancelled: boolean;
}

/** Versions of background pictures: unique, so a renderer never takes one picture for another. */
let nextBackgroundVersion = 1;

/** The display is never more than this many streamed frames behind the newest (keepUp). */
export const FOLLOW_WINDOW = 4;
const FOLLOW_STALL_MS = 10_000;

const STEPS: { step: Step; title: string; tip: string }[] = [
  {
    step: 1,
    title: 'Select objects',
    tip: 'Click an object to add a point; Shift+click or the − tool marks what to leave out; drag to draw a box; click a point to remove it.',
  },
  { step: 2, title: 'Track', tip: 'Tracking follows your objects through every frame; the video shows each frame as it arrives.' },
  { step: 3, title: 'Effects & export', tip: 'Pick an effect for each object and for the background, then download the video.' },
];

export class Editor {
  readonly root: HTMLElement;
  readonly objects = new ObjectList();
  readonly masks = new MaskStore();
  readonly history = new History();
  private readonly stage: Stage;
  private readonly player: FramePlayer;
  private readonly view: EffectsView;
  private readonly filmstrip: Filmstrip;
  private readonly rows: ObjectRows;
  private readonly thumbs = new Map<number, HTMLCanvasElement>();
  private readonly staleThumbs = new Set<number>();
  private sessionId: string | null = null;
  private phase: Phase = 'loading';
  private step: Step = 1;
  private background: Choice = { effect: 'none', variant: 0 };
  private userImage: Background | null = null;
  private firstFrame: Background | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private track: TrackRun | null = null;
  private lastTrack: { maxLag: number; samples: number; stalls: number; frames: number } | null = null;
  private loadAbort = new AbortController();
  private followStream = true;
  private pendingRequests = 0;
  private destroyed = false;
  private busyTimer = 0;
  private busyShown = false;
  private src: ImageData | null = null;
  private srcFrame = -1;
  private labels = new Uint8Array(0);
  private lagHandle = 0;
  private autoplayed = false;

  // controls
  private readonly banner = h('div', { class: 'banner', hidden: true });
  private readonly stepper = h('ol', { class: 'steps', 'aria-label': 'Steps' });
  private readonly tip = h('p', { class: 'tip', 'aria-live': 'polite' });
  private readonly playButton = h('button', { type: 'button', class: 'play' }, 'Play');
  private readonly prevButton = h('button', { type: 'button', 'aria-label': 'Previous frame', title: 'Previous frame (,)' }, '◀︎');
  private readonly nextButton = h('button', { type: 'button', 'aria-label': 'Next frame', title: 'Next frame (.)' }, '▶︎');
  private readonly scrubber = h('input', { type: 'range', min: 0, max: 0, step: 1, value: 0, class: 'scrubber', id: 'scrubber' });
  private readonly frameLabel = h('output', { class: 'frame-label', for: 'scrubber', 'aria-live': 'off' });
  private readonly coverage = h('canvas', { class: 'coverage', height: 6, width: 600, 'aria-hidden': 'true' });
  private readonly addObjectButton = h('button', { type: 'button' }, '+ Add object');
  private readonly positiveTool = h('button', { type: 'button', class: 'tool', 'aria-pressed': 'true', title: 'Clicks add points on the object' }, '+ Add');
  private readonly negativeTool = h('button', { type: 'button', class: 'tool', 'aria-pressed': 'false', title: 'Clicks mark what is not the object (Shift+click does too)' }, '− Exclude');
  private readonly undoButton = h('button', { type: 'button', title: 'Undo (Ctrl+Z)' }, 'Undo');
  private readonly redoButton = h('button', { type: 'button', title: 'Redo (Ctrl+Shift+Z)' }, 'Redo');
  private readonly clearFrameButton = h('button', { type: 'button' }, 'Clear points on this frame');
  private readonly clearAllButton = h('button', { type: 'button' }, 'Clear all points');
  private readonly trackButton = h('button', { type: 'button', class: 'primary' }, 'Track objects');
  private readonly cancelButton = h('button', { type: 'button', disabled: true }, 'Cancel');
  private readonly followButton = h('button', { type: 'button', hidden: true }, 'Follow the stream');
  private readonly trackProgress = h('progress', { max: 1, value: 0, 'aria-label': 'Tracking progress' });
  private readonly trackStats = h('p', { class: 'track-stats', 'aria-live': 'polite' });
  private readonly bgEffect = h('select', { class: 'bg-effect', 'aria-label': 'Background effect' });
  private readonly bgVariant = h('select', { class: 'bg-variant', 'aria-label': 'Background variant' });
  private readonly bgFile = h('input', { type: 'file', accept: 'image/*', class: 'bg-file', 'aria-label': 'Background picture' });
  private readonly bgNote = h('p', { class: 'hint bg-note' });
  private readonly surpriseButton = h('button', { type: 'button' }, 'Surprise me');
  private readonly exportButtons: Record<ExportKind, HTMLButtonElement> = {
    'effects.mp4': h('button', { type: 'button', class: 'primary' }, 'Effects video (MP4)'),
    'masks.json': h('button', { type: 'button' }, 'Masks (COCO RLE JSON)'),
    'masks.zip': h('button', { type: 'button' }, 'Masks (indexed PNG zip)'),
    'overlay.mp4': h('button', { type: 'button' }, 'Overlay video (MP4)'),
  };
  private readonly exportStatus = h('p', { class: 'export-status', 'aria-live': 'polite' });
  private readonly sessionLine = h('p', { class: 'session-line' });
  private readonly panels: Record<Step, HTMLElement>;

  constructor(
    private readonly host: EditorHost,
    readonly video: Video,
  ) {
    this.stage = new Stage(
      `Video frame. Click to add a point to the selected object; Shift+click or right-click for a negative ` +
        `point; click a point to remove it; drag to draw a box. With the keyboard: arrow keys move the cursor, ` +
        `Enter adds a point, Shift+Enter a negative one, Space plays or pauses.`,
    );
    // The frame's pixels are read for every frame shown (the effects' source).
    this.stage.frameCanvas.getContext('2d', { willReadFrequently: true });
    this.stage.setAspect(video.width || 16, video.height || 9);
    this.player = new FramePlayer(this.stage.frameCanvas, this.stage.videoHost);
    const preferCpu = new URLSearchParams(location.search).get('renderer') === '2d';
    this.view = new EffectsView(this.stage, preferCpu);
    this.filmstrip = new Filmstrip(this.scrubber, this.coverage);
    this.rows = new ObjectRows(this.objects, this.masks, this.thumbs, {
      select: (o) => this.selectObject(o),
      toggleHidden: (o) => this.toggleHidden(o),
      remove: (o) => this.removeObject(o),
      rename: (o, name) => {
        this.objects.rename(o.id, name);
        this.host.announce(`Renamed to ${o.name}`);
      },
      setEffect: (o, c) => this.setObjectEffect(o, c),
    });
    this.panels = { 1: this.selectPanel(), 2: this.trackPanel(), 3: this.effectsPanel() };
    this.root = this.build();
    this.stage.fitInto(this.stage.root.parentElement as HTMLElement);
    this.wire();
    this.showStep(1);
    this.refresh();
  }

  // --- layout ---------------------------------------------------------------------------------

  private selectPanel(): HTMLElement {
    return h(
      'section',
      { class: 'panel step-panel', 'aria-labelledby': 'objects-heading', dataset: { step: '1' } },
      h('h2', { id: 'objects-heading' }, 'Objects'),
      h('div', { class: 'row wrap tools', role: 'group', 'aria-label': 'Point tool' }, this.positiveTool, this.negativeTool, this.undoButton, this.redoButton),
      this.rows.root,
      h('div', { class: 'row wrap' }, this.addObjectButton, this.clearFrameButton, this.clearAllButton),
      h('div', { class: 'row next' }, this.trackButton),
    );
  }

  private trackPanel(): HTMLElement {
    return h(
      'section',
      { class: 'panel step-panel', 'aria-labelledby': 'track-heading', dataset: { step: '2' } },
      h('h2', { id: 'track-heading' }, 'Track'),
      h('div', { class: 'row wrap' }, this.cancelButton, this.followButton),
      this.trackProgress,
      this.trackStats,
    );
  }

  private effectsPanel(): HTMLElement {
    const surface = h(
      'div',
      { class: 'bg-controls' },
      h('label', { class: 'field' }, h('span', {}, 'Background'), this.bgEffect),
      h('label', { class: 'field' }, h('span', {}, 'Variant'), this.bgVariant),
      this.bgFile,
      this.bgNote,
    );
    return h(
      'section',
      { class: 'panel step-panel', 'aria-labelledby': 'effects-heading', dataset: { step: '3' } },
      h('h2', { id: 'effects-heading' }, 'Effects'),
      h('div', { class: 'effects-rows' }),
      surface,
      h('div', { class: 'row wrap' }, this.surpriseButton),
      h('h2', { id: 'export-heading', class: 'export-heading' }, 'Export'),
      h('div', { class: 'column' }, Object.values(this.exportButtons)),
      this.exportStatus,
    );
  }

  private build(): HTMLElement {
    for (const s of STEPS) {
      this.stepper.append(
        h(
          'li',
          {},
          h('button', { type: 'button', class: 'step', dataset: { step: String(s.step) }, onclick: () => this.goToStep(s.step) },
            h('span', { class: 'step-n' }, String(s.step)), ` ${s.title}`),
        ),
      );
    }
    this.bgEffect.append(...BACKGROUND_EFFECTS.map((e) => h('option', { value: e.name }, e.label)));
    return h(
      'section',
      { class: 'editor', 'aria-label': `Editing ${this.title}` },
      h(
        'div',
        { class: 'editor-main' },
        h('nav', { class: 'flow' }, this.stepper, this.tip),
        this.banner,
        h('div', { class: 'stage-wrap' }, this.stage.root),
        h(
          'div',
          { class: 'transport' },
          this.prevButton,
          this.playButton,
          this.nextButton,
          h('label', { class: 'visually-hidden', for: 'scrubber' }, 'Frame'),
          this.frameLabel,
        ),
        this.filmstrip.root,
      ),
      h('aside', { class: 'sidebar' }, this.panels[1], this.panels[2], this.panels[3], this.sessionLine),
    );
  }

  private get title(): string {
    return this.video.title || fileName(this.video.path);
  }

  private wire(): void {
    this.stage.onPoint = (p) => this.addPoint(p);
    this.stage.onPointHit = (x, y, rx, ry) => this.removePointAt(x, y, rx, ry);
    this.stage.onBox = (b) => this.addBox(b);
    this.stage.onTogglePlay = () => this.togglePlay();
    this.stage.onPromptsChanged = () => this.drawPrompts();
    this.player.onFrame(() => {
      this.redraw();
      this.updateTransport();
    });
    this.player.setOnEnded(() => this.refresh());
    this.playButton.addEventListener('click', () => this.togglePlay());
    this.prevButton.addEventListener('click', () => this.step_(-1));
    this.nextButton.addEventListener('click', () => this.step_(1));
    this.scrubber.addEventListener('input', () => {
      const target = Number(this.scrubber.value);
      if (this.track) {
        // Looking elsewhere while tracking: the display stops following (a button resumes it).
        this.followStream = false;
        this.player.stopFollow();
        this.goTo(target);
        this.refresh();
        return;
      }
      this.goTo(target);
    });
    this.addObjectButton.addEventListener('click', () => {
      const o = this.objects.add();
      this.renderRows();
      this.redraw();
      this.host.announce(`${o.name} added and selected`);
      this.rows.root.querySelector<HTMLInputElement>(`[data-object="${o.id}"] input.name`)?.focus();
    });
    this.positiveTool.addEventListener('click', () => this.setTool(1));
    this.negativeTool.addEventListener('click', () => this.setTool(0));
    this.undoButton.addEventListener('click', () => this.undo());
    this.redoButton.addEventListener('click', () => this.redo());
    this.clearFrameButton.addEventListener('click', () => this.clearFrame());
    this.clearAllButton.addEventListener('click', () => this.clearAll());
    this.trackButton.addEventListener('click', () => void this.startTracking());
    this.cancelButton.addEventListener('click', () => this.cancelTracking());
    this.followButton.addEventListener('click', () => {
      this.followStream = true;
      this.refresh();
    });
    this.bgEffect.addEventListener('change', () => this.setBackground({ effect: this.bgEffect.value, variant: 0 }));
    this.bgVariant.addEventListener('change', () => this.setBackground({ effect: this.background.effect, variant: Number(this.bgVariant.value) }));
    this.bgFile.addEventListener('change', () => {
      const f = this.bgFile.files?.[0];
      if (f) void this.loadUserImage(f);
    });
    this.surpriseButton.addEventListener('click', () => this.surprise());
    for (const [kind, button] of Object.entries(this.exportButtons) as [ExportKind, HTMLButtonElement][]) {
      button.addEventListener('click', () => void this.exportFile(kind));
    }
    this.root.addEventListener('keydown', (e) => this.shortcut(e));
  }

  private shortcut(e: KeyboardEvent): void {
    const t = e.target as HTMLElement;
    if (t.closest('input, textarea, select')) return;
    if ((e.ctrlKey || e.metaKey) && (e.key === 'z' || e.key === 'Z' || e.key === 'y')) {
      if (e.key === 'y' || e.shiftKey) this.redo();
      else this.undo();
      e.preventDefault();
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === ',' || e.key === '.') {
      this.step_(e.key === ',' ? -1 : 1);
      e.preventDefault();
    } else if (t === this.root || t === document.body) {
      if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
        this.step_(e.key === 'ArrowLeft' ? -1 : 1);
        e.preventDefault();
      }
    }
  }

  // --- steps ----------------------------------------------------------------------------------

  private showStep(step: Step): void {
    this.step = step;
    for (const [s, panel] of Object.entries(this.panels)) panel.hidden = Number(s) !== step;
    for (const b of this.stepper.querySelectorAll<HTMLButtonElement>('button.step')) {
      const current = Number(b.dataset.step) === step;
      b.setAttribute('aria-current', current ? 'step' : 'false');
    }
    this.tip.textContent = STEPS[step - 1].tip;
    this.root.dataset.step = String(step);
    // The object rows live in step 1's panel, and in step 3's with their effect pickers.
    const host = step === 3 ? this.panels[3].querySelector('.effects-rows') : this.panels[1].querySelector('.tools');
    if (step === 3) host?.append(this.rows.root);
    else if (host) host.after(this.rows.root);
    this.renderRows();
    this.syncBackgroundControls();
  }

  private goToStep(step: Step): void {
    if (step === 2 && this.phase === 'ready' && !this.track && this.objects.withPrompts().length > 0 && this.masks.framesWithMasks().length <= 1) {
      // Nothing tracked yet: the track step starts tracking.
      void this.startTracking();
      return;
    }
    this.showStep(step);
    this.refresh();
  }

  // --- session --------------------------------------------------------------------------------

  /** Starts the session and loads the video, showing progress; never leaves a bare spinner. */
  async open(): Promise<void> {
    this.phase = 'loading';
    this.refresh();
    this.stage.setMessage('Starting a session and loading the video…', 'busy');
    const signal = this.loadAbort.signal;
    try {
      const session = this.host.api.startSession(this.video.path);
      const load = this.player.load(
        this.host.api.url(this.video.path),
        (p) => {
          const pct = p.total ? ` ${Math.round((100 * p.received) / p.total)}%` : ` ${formatBytes(p.received)}`;
          this.stage.setMessage(`Loading the video…${pct}`, 'busy');
        },
        signal,
      );
      // Wait for both, and close a session that started when the video failed to load.
      const [sid, loaded] = await Promise.allSettled([session, load]);
      if (sid.status === 'fulfilled' && (loaded.status === 'rejected' || this.destroyed)) {
        void this.host.api.closeSession(sid.value).catch(() => undefined);
      }
      if (this.destroyed) return;
      if (loaded.status === 'rejected') throw loaded.reason;
      if (sid.status === 'rejected') throw sid.reason;
      this.sessionId = sid.value;
      this.phase = 'ready';
      this.stage.setAspect(this.player.width, this.player.height);
      if (this.objects.objects.length === 0) this.objects.add();
      this.stage.setMessage('');
      this.scrubber.max = String(Math.max(0, this.player.frameCount - 1));
      // Frame 0 is on the frame canvas now: keep it (the "first frame" background).
      const f0 = this.framePixels();
      if (f0) this.firstFrame = { pixels: new Uint8ClampedArray(f0.data), version: nextBackgroundVersion++ };
      this.renderRows();
      this.refresh();
      this.redraw();
      if (this.player.clock) void this.filmstrip.load(this.player.sourceUrl, this.player.clock, this.player.width, this.player.height);
      this.host.announce(`${this.title} is ready: ${this.player.frameCount} frames. Click an object to segment it.`);
    } catch (e) {
      if (this.destroyed || isAbort(e)) return;
      this.phase = 'failed';
      this.stage.setMessage('');
      this.showBanner('error', `Could not open this video: ${describe(e)}`, [
        ['Try again', () => this.retryOpen()],
        ['Back to the gallery', () => this.host.close()],
      ]);
      this.refresh();
    }
  }

  private retryOpen(): void {
    this.hideBanner();
    this.loadAbort = new AbortController();
    void this.open();
  }

  /** Starts a fresh session after expiry and replays every prompt, so the masks come back. */
  private async restartSession(): Promise<void> {
    this.hideBanner();
    this.phase = 'loading';
    this.refresh();
    this.stage.setMessage('Starting a new session…', 'busy');
    try {
      this.sessionId = await this.host.api.startSession(this.video.path);
      this.masks.clear();
      this.phase = 'ready';
      for (const o of this.objects.objects) {
        for (const [frame, prompts] of o.prompts) {
          if (isEmpty(prompts)) continue;
          this.applyFrame(await this.host.api.addPoints(this.sessionId, frame, o.id, promptPoints(prompts)));
        }
      }
      this.stage.setMessage('');
      this.host.announce('New session started; your points were sent again. Tracked frames need tracking again.');
    } catch (e) {
      this.stage.setMessage('');
      this.handleError(e, 'Restarting the session');
    }
    this.refresh();
    this.redraw();
  }

  /** Closes the server session (best effort) and frees the video. */
  destroy(): void {
    this.destroyed = true;
    this.loadAbort.abort();
    if (this.track) this.cancelTracking();
    if (this.sessionId) {
      const sid = this.sessionId;
      this.sessionId = null;
      void this.host.api.closeSession(sid).catch(() => undefined);
    }
    cancelAnimationFrame(this.lagHandle);
    this.filmstrip.destroy();
    this.player.destroy();
    this.view.destroy();
    this.stage.disconnect();
    this.root.remove();
  }

  /** For pagehide: closes the session with a request that outlives the page. */
  closeOnUnload(): void {
    if (!this.sessionId) return;
    const body = JSON.stringify({
      query: 'mutation PageCloseOnExit($input: CloseSessionInput!) { closeSession(input: $input) { success } }',
      variables: { input: { sessionId: this.sessionId } },
    });
    void fetch(this.host.api.url('graphql'), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body,
      keepalive: true,
    }).catch(() => undefined);
  }

  /** Runs server calls one after another (the server handles one request per session at a time). */
  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    this.pendingRequests++;
    this.refresh();
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined).finally(() => {
      this.pendingRequests--;
      this.refresh();
    });
    return run;
  }

  private handleError(e: unknown, what: string): void {
    if (isAbort(e)) return;
    if (e instanceof ApiError && e.kind === 'expired') {
      this.phase = 'expired';
      this.sessionId = null;
      this.showBanner(
        'warning',
        `The session on the server has expired (it was idle too long, or the server restarted). ` +
          `Start a new one to continue; your points are kept and sent again.`,
        [
          ['Restart session', () => void this.restartSession()],
          ['Back to the gallery', () => this.host.close()],
        ],
      );
    } else if (e instanceof ApiError && e.kind === 'unreachable') {
      this.showBanner('error', `${what} failed: ${e.message}. Check that sam2 serve is running, then try again.`, [
        ['Dismiss', () => this.hideBanner()],
      ]);
    } else {
      this.showBanner('error', `${what} failed: ${describe(e)}`, [['Dismiss', () => this.hideBanner()]]);
    }
    this.refresh();
  }

  private showBanner(kind: 'error' | 'warning' | 'info', text: string, actions: [string, () => void][]): void {
    clear(this.banner);
    this.banner.dataset.kind = kind;
    this.banner.setAttribute('role', kind === 'info' ? 'status' : 'alert');
    this.banner.append(
      h('p', {}, text),
      h(
        'div',
        { class: 'row' },
        actions.map(([label, fn]) => h('button', { type: 'button', onclick: fn }, label)),
      ),
    );
    this.banner.hidden = false;
  }

  private hideBanner(): void {
    this.banner.hidden = true;
    clear(this.banner);
  }

  // --- frames ---------------------------------------------------------------------------------

  private goTo(frame: number): void {
    this.player
      .seek(frame)
      .then(() => {
        this.updateTransport();
        this.refresh(); // a seek stops playback: the button says Play again
      })
      .catch((e) => this.handleError(e, 'Showing the frame'));
  }

  private step_(delta: number): void {
    if (!this.player.clock) return;
    if (this.player.playing) this.player.pause(true);
    this.goTo(this.player.frame + delta);
  }

  private togglePlay(): void {
    if (!this.player.clock || this.phase === 'loading') return;
    if (this.player.playing) {
      this.player.pause(true);
    } else {
      // play() may first seek back to frame 0 (at the end): the button says Pause once it plays.
      this.player
        .play()
        .then(() => this.refresh())
        .catch((e) => this.handleError(e, 'Playing'));
    }
    this.refresh();
  }

  /** The pixels of the frame on the frame canvas (read once per frame shown). */
  private framePixels(): ImageData | null {
    const c = this.stage.frameCanvas;
    if (c.width < 1 || c.height < 1 || !this.player.clock) return null;
    if (this.src && this.srcFrame === this.player.frame && this.src.width === c.width && this.src.height === c.height) return this.src;
    const ctx = c.getContext('2d', { willReadFrequently: true });
    if (!ctx) return null;
    this.src = ctx.getImageData(0, 0, c.width, c.height);
    this.srcFrame = this.player.frame;
    return this.src;
  }

  /** What to draw: the visible objects in list order with their effects, and the background. */
  scene(): Scene {
    return {
      background: { ...this.background },
      objects: this.objects.objects.filter((o) => !o.hidden).map((o) => ({ id: o.id, ...o.effect, color: o.color })),
    };
  }

  /** The replacement background the scene needs, or null (none chosen yet: drawn as "none"). */
  private backgroundFor(scene: Scene): Background | null {
    const source = replaceSource(scene);
    if (source === 'first-frame') return this.firstFrame;
    if (source === 'image') return this.userImage;
    return null;
  }

  private drawableScene(): { scene: Scene; bg: Background | null } {
    const scene = this.scene();
    const bg = this.backgroundFor(scene);
    if (replaceSource(scene) && !bg) scene.background = { effect: 'none', variant: 0 };
    return { scene, bg };
  }

  private redraw(): void {
    if (!this.player.clock) return;
    const frame = this.player.frame;
    const src = this.framePixels();
    if (src) {
      const { width, height } = src;
      if (this.labels.length !== width * height) this.labels = new Uint8Array(width * height);
      const { scene, bg } = this.drawableScene();
      const bits = new Map<number, Uint8Array>();
      for (const o of scene.objects) {
        const m = this.masks.mask(frame, o.id);
        if (m && m.size[0] === height && m.size[1] === width) bits.set(o.id, decodeRle(m));
      }
      buildLabels(scene, (id) => bits.get(id), width, height, this.labels);
      this.view.render(src, scene, this.labels, bg);
      this.updateThumbnails(src, bits);
    }
    this.drawPrompts();
    this.drawCoverage();
    this.rows.update(this.rowsState());
  }

  private drawPrompts(): void {
    const c = this.stage.frameCanvas;
    this.stage.drawPrompts(this.objects.objects, this.objects.selectedId, this.player.frame, c.width, c.height);
  }

  /** An object's thumbnail: its bounding box on the frame where it was last prompted, cut out. */
  private updateThumbnails(src: ImageData, bits: Map<number, Uint8Array>): void {
    for (const [id, m] of bits) {
      if (this.thumbs.has(id) && !this.staleThumbs.has(id)) continue;
      const { width: w, height: hgt } = src;
      let x0 = w;
      let y0 = hgt;
      let x1 = -1;
      let y1 = -1;
      for (let y = 0; y < hgt; y++) {
        for (let x = 0; x < w; x++) {
          if (!m[y * w + x]) continue;
          if (x < x0) x0 = x;
          if (x > x1) x1 = x;
          if (y < y0) y0 = y;
          if (y > y1) y1 = y;
        }
      }
      if (x1 < 0) continue;
      const side = Math.max(x1 - x0 + 1, y1 - y0 + 1);
      const cx = (x0 + x1 + 1) / 2;
      const cy = (y0 + y1 + 1) / 2;
      const crop = new ImageData(side, side);
      for (let y = 0; y < side; y++) {
        for (let x = 0; x < side; x++) {
          const sx = Math.floor(cx - side / 2 + x);
          const sy = Math.floor(cy - side / 2 + y);
          if (sx < 0 || sy < 0 || sx >= w || sy >= hgt || !m[sy * w + sx]) continue;
          const i = 4 * (sy * w + sx);
          const o = 4 * (y * side + x);
          crop.data[o] = src.data[i];
          crop.data[o + 1] = src.data[i + 1];
          crop.data[o + 2] = src.data[i + 2];
          crop.data[o + 3] = 255;
        }
      }
      const canvas = this.thumbs.get(id) ?? document.createElement('canvas');
      canvas.width = side;
      canvas.height = side;
      canvas.getContext('2d')?.putImageData(crop, 0, 0);
      this.thumbs.set(id, canvas);
      this.staleThumbs.delete(id);
    }
  }

  private drawCoverage(): void {
    const n = this.player.frameCount;
    const canvas = this.coverage;
    const width = Math.max(1, Math.round(canvas.clientWidth || 600));
    if (canvas.width !== width) canvas.width = width;
    const ctx = canvas.getContext('2d');
    if (!ctx || n === 0) return;
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    const ids = new Set(this.objects.objects.map((o) => o.id));
    ctx.fillStyle = '#6fd1a5';
    for (const f of this.masks.framesWithMasks(ids)) {
      const x0 = Math.floor((f / n) * width);
      const x1 = Math.max(x0 + 1, Math.floor(((f + 1) / n) * width));
      ctx.fillRect(x0, 0, x1 - x0, canvas.height);
    }
  }

  private updateTransport(): void {
    const clock = this.player.clock;
    if (!clock) {
      this.frameLabel.textContent = 'No video';
      return;
    }
    const f = this.player.frame < 0 ? 0 : this.player.frame;
    // While the person moves the scrubber, the frames drawn on the way must not move it back.
    if (!(this.player.busy && document.activeElement === this.scrubber)) this.scrubber.value = String(f);
    this.scrubber.setAttribute('aria-valuetext', `Frame ${f + 1} of ${clock.frameCount}`);
    this.frameLabel.textContent = `Frame ${f + 1} / ${clock.frameCount} · ${formatClock(clock.startOf(f))}`;
    this.frameLabel.dataset.frame = String(f);
  }

  // --- prompts --------------------------------------------------------------------------------

  private setTool(label: 0 | 1): void {
    this.stage.tool = label;
    this.positiveTool.setAttribute('aria-pressed', label === 1 ? 'true' : 'false');
    this.negativeTool.setAttribute('aria-pressed', label === 0 ? 'true' : 'false');
    this.host.announce(label === 1 ? 'Clicks add points on the object' : 'Clicks mark what is not the object');
  }

  /** Whether prompts can change now; says why not otherwise. */
  private canEdit(): boolean {
    if (this.phase === 'tracking') {
      this.host.announce('Tracking is running: cancel it or wait for it to finish before adding points.');
      this.stage.setMessage('Tracking is running — cancel it to add points.', 'info');
      setTimeout(() => this.phase === 'tracking' && this.stage.setMessage('Tracking…', 'busy'), 1500);
      return false;
    }
    if (this.phase !== 'ready' || !this.sessionId || !this.player.clock) return false;
    if (this.player.playing) this.player.pause(true);
    return true;
  }

  private addPoint(input: PointInput): void {
    if (!this.canEdit()) return;
    const obj = this.objects.selected ?? this.objects.add();
    const frame = this.player.frame;
    const before = obj.prompts.get(frame) ?? NO_PROMPTS;
    const after: Prompts = { points: [...before.points, { x: input.x, y: input.y, label: input.label }], box: before.box };
    this.changePrompts(obj, frame, before, after, true, `${input.label ? 'Positive' : 'Negative'} point added to ${obj.name}`);
  }

  private addBox(box: Box): void {
    if (!this.canEdit()) return;
    const obj = this.objects.selected ?? this.objects.add();
    const frame = this.player.frame;
    const before = obj.prompts.get(frame) ?? NO_PROMPTS;
    this.changePrompts(obj, frame, before, { points: [...before.points], box }, true, `Box drawn for ${obj.name}`);
  }

  /** A click on a drawn point removes it (the nearest, any object's): true when one was there. */
  private removePointAt(x: number, y: number, rx: number, ry: number): boolean {
    if (this.phase !== 'ready' || !this.player.clock) return false;
    const frame = this.player.frame;
    let best: { obj: TrackedObject; index: number; d: number } | null = null;
    for (const o of this.objects.objects) {
      const pts = o.prompts.get(frame)?.points ?? [];
      pts.forEach((p, index) => {
        const d = ((p.x - x) / rx) ** 2 + ((p.y - y) / ry) ** 2;
        if (d <= 1 && (!best || d < best.d)) best = { obj: o, index, d };
      });
    }
    if (!best) return false;
    const { obj, index } = best as { obj: TrackedObject; index: number };
    if (!this.canEdit()) return true;
    const before = obj.prompts.get(frame) ?? NO_PROMPTS;
    const after: Prompts = { points: before.points.filter((_, i) => i !== index), box: before.box };
    this.changePrompts(obj, frame, before, after, true, `Point removed from ${obj.name}`);
    return true;
  }

  /**
   * Sets an object's prompts on a frame and sends the whole set (addPoints with clearOldPoints,
   * as the official frontend does; clearPointsInFrame when nothing is left). The server's answer
   * replaces the frame's masks; a refusal puts the prompts back.
   */
  private changePrompts(obj: TrackedObject, frame: number, before: Prompts, after: Prompts, record: boolean, what: string, onFail?: () => void): void {
    if (samePrompts(before, after)) return;
    const sid = this.sessionId;
    if (!sid) return;
    if (isEmpty(after)) obj.prompts.delete(frame);
    else obj.prompts.set(frame, after);
    if (record) this.history.record({ objectId: obj.id, frame, before, after });
    this.staleThumbs.add(obj.id);
    this.renderRows();
    this.redraw();
    const send = isEmpty(after)
      ? () => this.host.api.clearPointsInFrame(sid, frame, obj.id)
      : () => this.host.api.addPoints(sid, frame, obj.id, promptPoints(after));
    this.enqueue(send)
      .then((answer) => {
        this.applyFrame(answer);
        this.host.announce(`${what} on frame ${frame + 1}`);
      })
      .catch((e) => {
        // The server did not take the change: the page goes back to what the server has.
        if (samePrompts(obj.prompts.get(frame), after)) {
          if (isEmpty(before)) obj.prompts.delete(frame);
          else obj.prompts.set(frame, before);
        }
        if (record) this.history.forgetLast(obj.id, frame, after);
        onFail?.();
        this.handleError(e, 'Changing the points');
      })
      .finally(() => {
        this.renderRows();
        this.redraw();
        this.refresh();
      });
  }

  private undo(): void {
    if (!this.history.canUndo || !this.canEdit()) return;
    const e = this.history.undo();
    const obj = e && this.objects.get(e.objectId);
    if (!e || !obj) return;
    this.changePrompts(obj, e.frame, obj.prompts.get(e.frame) ?? NO_PROMPTS, e.before, false, `Undone for ${obj.name}`, () => this.history.restore(e, true));
    if (this.player.frame !== e.frame) this.goTo(e.frame);
    this.refresh();
  }

  private redo(): void {
    if (!this.history.canRedo || !this.canEdit()) return;
    const e = this.history.redo();
    const obj = e && this.objects.get(e.objectId);
    if (!e || !obj) return;
    this.changePrompts(obj, e.frame, obj.prompts.get(e.frame) ?? NO_PROMPTS, e.after, false, `Redone for ${obj.name}`, () => this.history.restore(e, false));
    if (this.player.frame !== e.frame) this.goTo(e.frame);
    this.refresh();
  }

  private applyFrame(answer: FrameMasks): void {
    this.masks.setFrame(
      answer.frameIndex,
      answer.rleMaskList.map((m) => ({ objectId: m.objectId, mask: m.rleMask })),
    );
    if (answer.frameIndex === this.player.frame) this.redraw();
    else this.rows.update(this.rowsState());
  }

  private clearFrame(): void {
    if (this.phase !== 'ready' || !this.sessionId) return;
    const frame = this.player.frame;
    const sid = this.sessionId;
    const targets = this.objects.objects.filter((o) => !isEmpty(o.prompts.get(frame)));
    if (targets.length === 0) {
      this.host.announce('There are no points on this frame.');
      return;
    }
    for (const o of targets) {
      const before = o.prompts.get(frame) ?? NO_PROMPTS;
      this.history.record({ objectId: o.id, frame, before, after: NO_PROMPTS });
      this.enqueue(() => this.host.api.clearPointsInFrame(sid, frame, o.id))
        .then((answer) => {
          o.prompts.delete(frame);
          this.applyFrame(answer);
          this.host.announce(`Points of ${o.name} on frame ${frame + 1} cleared`);
        })
        .catch((e) => this.handleError(e, 'Clearing points'))
        .finally(() => {
          this.renderRows();
          this.redraw();
        });
    }
  }

  private clearAll(): void {
    if (this.phase !== 'ready' || !this.sessionId) return;
    const sid = this.sessionId;
    this.enqueue(() => this.host.api.clearPointsInVideo(sid))
      .then((ok) => {
        if (!ok) throw new ApiError('graphql', 'the server did not clear the points');
        this.objects.clearPrompts();
        this.masks.clear();
        this.history.forget();
        this.trackStats.textContent = '';
        this.trackProgress.value = 0;
        this.host.announce('All points and masks cleared');
      })
      .catch((e) => this.handleError(e, 'Clearing all points'))
      .finally(() => {
        this.renderRows();
        this.redraw();
        this.refresh();
      });
  }

  // --- objects ----------------------------------------------------------------------------------

  private selectObject(o: TrackedObject): void {
    this.objects.selectedId = o.id;
    if (o.hidden) o.hidden = false; // editing a hidden object shows it
    this.renderRows();
    this.redraw();
    this.host.announce(`${o.name} selected: clicks on the video add its points`);
  }

  private toggleHidden(o: TrackedObject): void {
    o.hidden = !o.hidden;
    this.renderRows();
    this.redraw();
    this.host.announce(`${o.name} ${o.hidden ? 'hidden' : 'shown'}`);
  }

  private setObjectEffect(o: TrackedObject, c: Choice): void {
    o.effect = { ...c };
    this.renderRows();
    this.redraw();
  }

  private removeObject(obj: TrackedObject): void {
    if (this.phase === 'tracking') return;
    const known = this.objects.promptCount(obj) > 0 || this.masks.framesWithMasks(new Set([obj.id])).length > 0;
    const finish = () => {
      this.objects.remove(obj.id);
      this.masks.removeObject(obj.id);
      this.history.forget(obj.id);
      this.thumbs.delete(obj.id);
      this.renderRows();
      this.redraw();
      this.refresh();
      this.host.announce(`${obj.name} removed`);
      const next = this.rows.root.querySelector<HTMLElement>('button.edit');
      if (next) next.focus();
      else this.addObjectButton.focus();
    };
    if (!known || !this.sessionId) {
      finish();
      return;
    }
    const sid = this.sessionId;
    this.enqueue(() => this.host.api.removeObject(sid, obj.id))
      .then((updates) => {
        for (const u of updates) this.applyFrame(u);
        finish();
      })
      .catch((e) => this.handleError(e, `Removing ${obj.name}`));
  }

  private rowsState() {
    return {
      busy: this.phase !== 'ready',
      effects: this.step === 3,
      frame: Math.max(0, this.player.frame),
      frameCount: this.player.frameCount,
    };
  }

  private renderRows(): void {
    this.rows.render(this.rowsState());
  }

  // --- background -------------------------------------------------------------------------------

  private setBackground(c: Choice): void {
    this.background = { ...c };
    this.syncBackgroundControls();
    this.redraw();
  }

  private syncBackgroundControls(): void {
    const def = backgroundEffect(this.background.effect);
    this.bgEffect.value = def.name;
    clear(this.bgVariant);
    this.bgVariant.append(...def.variants.map((v, i) => h('option', { value: String(i), selected: i === this.background.variant }, v.label)));
    this.bgVariant.disabled = def.variants.length < 2;
    const wantsImage = replaceSource(this.scene()) === 'image';
    this.bgFile.hidden = !wantsImage;
    this.bgNote.textContent = wantsImage && !this.userImage ? 'Choose a picture for the background.' : '';
  }

  /** Your picture, scaled to cover the frame (nearest pixel), at the video's size. */
  private async loadUserImage(file: File): Promise<void> {
    const w = this.stage.frameCanvas.width;
    const hgt = this.stage.frameCanvas.height;
    try {
      const bmp = await createImageBitmap(file);
      const c = document.createElement('canvas');
      c.width = bmp.width;
      c.height = bmp.height;
      const ctx = c.getContext('2d');
      if (!ctx) throw new Error('no 2D canvas');
      ctx.drawImage(bmp, 0, 0);
      const img = ctx.getImageData(0, 0, bmp.width, bmp.height);
      bmp.close();
      const out = new Uint8ClampedArray(w * hgt * 4);
      const s = Math.max(w / img.width, hgt / img.height);
      for (let y = 0; y < hgt; y++) {
        const sy = Math.min(img.height - 1, Math.max(0, Math.floor((y + 0.5 - hgt / 2) / s + img.height / 2)));
        for (let x = 0; x < w; x++) {
          const sx = Math.min(img.width - 1, Math.max(0, Math.floor((x + 0.5 - w / 2) / s + img.width / 2)));
          const i = 4 * (sy * img.width + sx);
          const o = 4 * (y * w + x);
          out[o] = img.data[i];
          out[o + 1] = img.data[i + 1];
          out[o + 2] = img.data[i + 2];
          out[o + 3] = 255;
        }
      }
      this.userImage = { pixels: out, version: nextBackgroundVersion++ };
      this.host.announce('Background picture set');
    } catch (e) {
      this.bgNote.textContent = `That picture cannot be used: ${e instanceof Error ? e.message : String(e)}`;
      return;
    }
    this.syncBackgroundControls();
    this.redraw();
  }

  /** A random background and a random effect for every object (the official "Surprise Me"). */
  private surprise(): void {
    const pick = <T>(a: readonly T[]) => a[Math.floor(Math.random() * a.length)];
    const bgs = BACKGROUND_EFFECTS.filter((e) => e.name !== 'replace' || this.userImage);
    const bg = pick(bgs);
    let variant = Math.floor(Math.random() * bg.variants.length);
    if (bg.name === 'replace' && bg.variants[variant].source === 'image' && !this.userImage) variant = 0;
    this.background = { effect: bg.name, variant };
    for (const o of this.objects.objects) {
      const e = pick(OBJECT_EFFECTS.filter((x) => x.name !== 'original'));
      o.effect = { effect: e.name, variant: Math.floor(Math.random() * e.variants.length) };
    }
    this.syncBackgroundControls();
    this.renderRows();
    this.redraw();
    this.host.announce('Effects chosen at random');
  }

  // --- tracking -------------------------------------------------------------------------------

  private async startTracking(): Promise<void> {
    if (this.phase !== 'ready' || !this.sessionId || this.track) return;
    if (this.objects.withPrompts().length === 0) {
      this.trackStats.textContent = 'Add at least one point before tracking.';
      this.host.announce('Add at least one point before tracking.');
      return;
    }
    if (this.player.playing) this.player.pause(true);
    await this.queue; // let pending clicks reach the server first
    if (this.phase !== 'ready' || !this.sessionId) return;
    const sid = this.sessionId;
    const start = Math.max(0, this.player.frame);
    const n = this.player.frameCount;
    const run: TrackRun = {
      abort: new AbortController(),
      started: performance.now(),
      received: 0,
      // Forward from the start frame to the end, then backward from it to frame 0.
      expected: start > 0 ? n - start + start + 1 : n,
      frames: new Set(),
      arrival: new Map(),
      last: start - 1,
      maxLag: 0,
      samples: 0,
      stalls: 0,
      cancelled: false,
    };
    this.track = run;
    this.followStream = true;
    this.phase = 'tracking';
    this.autoplayed = false;
    this.showStep(2);
    this.trackProgress.max = run.expected;
    this.trackProgress.value = 0;
    this.trackStats.textContent = 'Starting…';
    this.stage.setMessage('Tracking…', 'busy');
    this.refresh();
    this.watchLag(run);
    try {
      await propagate(this.host.api.url('propagate_in_video'), sid, start, run.abort.signal, (f) => {
        if (this.track !== run) return;
        run.received++;
        run.frames.add(f.frameIndex);
        run.arrival.set(f.frameIndex, run.received);
        this.masks.setFrame(f.frameIndex, f.masks);
        // Following: forward, the element plays up to the newest frame (no seeks); backward, it
        // seeks to the newest (seeks coalesce, so the display never queues behind).
        const forward = f.frameIndex > run.last;
        run.last = f.frameIndex;
        if (this.followStream && forward) this.player.follow(f.frameIndex);
        else if (this.followStream) this.goTo(f.frameIndex);
        else if (f.frameIndex === this.player.frame) this.redraw();
        else this.drawCoverage();
        this.showTrackStats(run);
        return this.followStream ? this.keepUp(run) : undefined;
      });
      this.finishTracking(run, run.received > 0 ? 'done' : 'empty');
    } catch (e) {
      if (isAbort(e) || run.cancelled) {
        this.finishTracking(run, 'cancelled');
      } else {
        this.finishTracking(run, 'failed', e);
      }
    }
  }

  /** Streamed frames that arrived after the one on screen (0: it shows the newest). */
  private lag(run: TrackRun): number | null {
    const pos = run.arrival.get(this.player.frame);
    return pos === undefined ? null : run.received - pos;
  }

  /**
   * While following, the next frame is read once the display is fewer than FOLLOW_WINDOW frames
   * behind: so the frame on screen is never more than FOLLOW_WINDOW frames behind the newest that
   * arrived, however fast the model and however slow the browser. (When the browser shows
   * frames faster than the model makes them, which is the case but for the tiniest models, this
   * never waits.) A display stuck for FOLLOW_STALL_MS stops the waiting for that frame.
   */
  private keepUp(run: TrackRun): Promise<void> | undefined {
    const behind = () => {
      const lag = this.lag(run);
      return lag !== null && lag >= FOLLOW_WINDOW;
    };
    if (!behind()) return undefined;
    return new Promise((resolve) => {
      const started = performance.now();
      const check = () => {
        if (this.track !== run || run.cancelled || !this.followStream || !behind()) return resolve();
        if (performance.now() - started > FOLLOW_STALL_MS) {
          run.stalls++;
          return resolve();
        }
        // Nudge the display on (a seek that ended, a held frame).
        this.player.follow(run.last);
        setTimeout(check, 15);
      };
      setTimeout(check, 15);
    });
  }

  /**
   * Measures how far the display is behind the stream, at every animation frame while following:
   * the number of frames that arrived after the one on screen.
   */
  private watchLag(run: TrackRun): void {
    const tick = () => {
      if (this.track !== run) return;
      if (this.followStream && run.received > 0) {
        const lag = this.lag(run);
        if (lag !== null) {
          run.maxLag = Math.max(run.maxLag, lag);
          run.samples++;
        }
      }
      this.lagHandle = requestAnimationFrame(tick);
    };
    this.lagHandle = requestAnimationFrame(tick);
  }

  private showTrackStats(run: TrackRun): void {
    const elapsed = (performance.now() - run.started) / 1000;
    const rate = run.received / Math.max(elapsed, 1e-3);
    const left = Math.max(0, run.expected - run.received);
    const eta = rate > 0 ? left / rate : Infinity;
    this.trackProgress.value = Math.min(run.received, run.expected);
    this.trackStats.textContent =
      `${run.frames.size} of ${this.player.frameCount} frames · ${rate.toFixed(1)} frames/s · ` +
      (Number.isFinite(eta) ? `about ${Math.ceil(eta)} s left` : 'estimating time left');
  }

  private finishTracking(run: TrackRun, how: 'done' | 'empty' | 'cancelled' | 'failed', error?: unknown): void {
    if (this.track !== run) return;
    this.track = null;
    if (this.player.following) {
      // The element may hold a frame past the one shown: show exactly the one named.
      this.player.stopFollow();
      if (how !== 'done') this.goTo(this.player.frame);
    }
    cancelAnimationFrame(this.lagHandle);
    this.lastTrack = { maxLag: run.maxLag, samples: run.samples, stalls: run.stalls, frames: run.frames.size };
    if (this.phase === 'tracking') this.phase = 'ready';
    this.stage.setMessage('');
    const elapsed = (performance.now() - run.started) / 1000;
    const rate = run.received / Math.max(elapsed, 1e-3);
    if (how === 'done') {
      this.trackProgress.value = this.trackProgress.max;
      this.trackStats.textContent = `Tracked ${run.frames.size} frames in ${elapsed.toFixed(1)} s (${rate.toFixed(1)} frames/s).`;
      this.host.announce('Tracking finished: playing the result');
      this.showStep(3);
      this.autoplay();
    } else if (how === 'empty') {
      this.trackStats.textContent = 'The server finished without sending any frame.';
    } else if (how === 'cancelled') {
      this.trackStats.textContent = `Tracking cancelled after ${run.frames.size} of ${this.player.frameCount} frames.`;
      this.host.announce('Tracking cancelled');
    } else {
      this.trackStats.textContent = `Tracking failed after ${run.frames.size} frames.`;
      if (error instanceof ApiError && error.kind === 'expired') {
        this.handleError(error, 'Tracking');
      } else {
        this.showBanner('error', `Tracking failed: ${describe(error)}`, [
          ['Try again', () => {
            this.hideBanner();
            void this.startTracking();
          }],
          ['Dismiss', () => this.hideBanner()],
        ]);
      }
    }
    this.refresh();
    this.redraw();
  }

  /** After tracking: the result plays from the start, with its effects. */
  private autoplay(): void {
    this.autoplayed = true;
    this.player
      .seek(0)
      .then(() => this.player.play())
      .then(() => this.refresh())
      .catch(() => undefined); // a browser that refuses to play leaves the first frame shown
  }

  private cancelTracking(): void {
    const run = this.track;
    if (!run || run.cancelled) return;
    run.cancelled = true;
    this.trackStats.textContent = 'Cancelling…';
    if (this.sessionId) {
      // Tell the server (it stops within a frame), and stop reading at once.
      void this.host.api.cancelPropagation(this.sessionId).catch(() => undefined);
    }
    run.abort.abort();
  }

  // --- export ---------------------------------------------------------------------------------

  /** The PNG the effects export sends for "your image" (exactly what the page draws). */
  private async userImagePng(): Promise<Blob> {
    const img = this.userImage;
    if (!img) throw new ApiError('protocol', 'choose a picture for the background first');
    const c = document.createElement('canvas');
    c.width = this.stage.frameCanvas.width;
    c.height = this.stage.frameCanvas.height;
    c.getContext('2d')?.putImageData(new ImageData(new Uint8ClampedArray(img.pixels), c.width, c.height), 0, 0);
    return new Promise((resolve, reject) => c.toBlob((b) => (b ? resolve(b) : reject(new Error('PNG encoding failed'))), 'image/png'));
  }

  /** The effects.mp4 query for what the page draws now (and the picture to POST, if any). */
  async effectsRequest(): Promise<{ query: string; body?: Blob }> {
    const { scene } = this.drawableScene();
    const body = replaceSource(scene) === 'image' ? await this.userImagePng() : undefined;
    return { query: sceneQuery(scene), body };
  }

  private async exportFile(kind: ExportKind): Promise<void> {
    if (!this.sessionId) return;
    const button = this.exportButtons[kind];
    const base = this.title.replace(/\.[^.]+$/, '');
    const name = `${base}-${kind}`;
    button.disabled = true;
    this.exportStatus.dataset.kind = 'busy';
    this.exportStatus.textContent = kind.endsWith('.mp4') ? `Rendering ${kind} on the server…` : `Preparing ${kind}…`;
    try {
      const req = kind === 'effects.mp4' ? await this.effectsRequest() : { query: '', body: undefined };
      const blob = await fetchExport(
        this.host.api.base,
        this.sessionId,
        kind,
        (got, total) => {
          this.exportStatus.textContent = total
            ? `Downloading ${kind}: ${Math.round((100 * got) / total)}%`
            : `Downloading ${kind}: ${formatBytes(got)}`;
        },
        undefined,
        req.query,
        req.body,
      );
      saveBlob(blob, name);
      this.exportStatus.dataset.kind = 'ok';
      this.exportStatus.textContent = `Saved ${name} (${formatBytes(blob.size)}).`;
    } catch (e) {
      this.exportStatus.dataset.kind = 'error';
      const status = e instanceof ApiError && e.status ? ` (HTTP ${e.status})` : '';
      this.exportStatus.textContent =
        e instanceof ApiError && e.status === 404 && e.kind !== 'expired'
          ? `Export of ${kind} failed: this server does not offer /export/…/${kind}${status}: ${e.message}`
          : `Export of ${kind} failed: ${describe(e)}${status}`;
      if (e instanceof ApiError && e.kind === 'expired') this.handleError(e, 'Export');
    } finally {
      this.refresh();
    }
  }

  // --- enabling -------------------------------------------------------------------------------

  private refresh(): void {
    const ready = this.phase === 'ready';
    const tracking = this.phase === 'tracking';
    const hasVideo = !!this.player.clock;
    const hasPrompts = this.objects.withPrompts().length > 0;
    this.playButton.textContent = this.player.playing ? 'Pause' : 'Play';
    this.playButton.setAttribute('aria-label', this.player.playing ? 'Pause' : 'Play');
    for (const b of [this.playButton, this.prevButton, this.nextButton]) b.disabled = !hasVideo;
    this.scrubber.disabled = !hasVideo;
    this.addObjectButton.disabled = !(ready || tracking);
    this.undoButton.disabled = !ready || !this.history.canUndo;
    this.redoButton.disabled = !ready || !this.history.canRedo;
    this.clearFrameButton.disabled = !ready || !hasPrompts;
    this.clearAllButton.disabled = !ready || !hasPrompts;
    this.trackButton.disabled = !ready || !hasPrompts;
    this.trackButton.textContent = tracking ? 'Tracking…' : 'Track objects';
    this.cancelButton.disabled = !tracking;
    this.followButton.hidden = !tracking || this.followStream;
    for (const b of Object.values(this.exportButtons)) b.disabled = !ready || !hasPrompts;
    for (const b of this.stepper.querySelectorAll<HTMLButtonElement>('button.step')) {
      const s = Number(b.dataset.step);
      b.disabled = this.phase === 'loading' || this.phase === 'failed' || (s > 1 && !hasPrompts && !tracking);
    }
    this.root.dataset.phase = this.phase;
    this.root.dataset.busy = this.pendingRequests > 0 ? 'true' : 'false';
    this.showBusy(ready && this.pendingRequests > 0);
    this.sessionLine.textContent = this.sessionId
      ? `Session ${this.sessionId.slice(0, 8)} · ${this.player.width || this.video.width}×${this.player.height || this.video.height} · ` +
        `effects: ${this.view.kind === 'webgl2' ? 'WebGL2' : 'Canvas2D'}` +
        (this.player.timingNote ? ` · ${this.player.timingNote}` : '')
      : this.phase === 'expired'
        ? 'Session expired'
        : '';
    this.updateTransport();
    for (const b of this.rows.root.querySelectorAll<HTMLButtonElement>('button.remove')) b.disabled = !ready;
  }

  /** "Segmenting…" on the frame while a click is answered, unless the answer is quick. */
  private showBusy(on: boolean): void {
    if (on && !this.busyTimer && !this.busyShown) {
      this.busyTimer = window.setTimeout(() => {
        this.busyTimer = 0;
        if (this.pendingRequests > 0 && this.phase === 'ready') {
          this.busyShown = true;
          this.stage.setMessage('Segmenting…', 'busy');
        }
      }, 250);
    } else if (!on) {
      if (this.busyTimer) window.clearTimeout(this.busyTimer);
      this.busyTimer = 0;
      if (this.busyShown) {
        this.busyShown = false;
        if (this.phase === 'ready') this.stage.setMessage('');
      }
    }
  }

  /** The CPU renderer's bytes for the frame shown, base64 (the tests compare them with the canvas). */
  referencePixels(): string | null {
    const src = this.framePixels();
    if (!src) return null;
    const { scene, bg } = this.drawableScene();
    const d = this.view.reference(src, scene, this.labels, bg);
    let s = '';
    for (let i = 0; i < d.length; i += 0x8000) s += String.fromCharCode.apply(null, Array.from(d.subarray(i, i + 0x8000)));
    return btoa(s);
  }

  /** Read-only view of the state, for the browser tests. */
  snapshot() {
    return {
      phase: this.phase,
      step: this.step,
      sessionId: this.sessionId,
      title: this.title,
      frame: this.player.frame,
      frameCount: this.player.frameCount,
      playing: this.player.playing,
      seeking: this.player.busy,
      busy: this.pendingRequests > 0,
      renderer: this.view.kind,
      autoplayed: this.autoplayed,
      filmstripThumbs: this.filmstrip.drawn,
      canUndo: this.history.canUndo,
      canRedo: this.history.canRedo,
      tracking: this.track ? { received: this.track.received, frames: this.track.frames.size, maxLag: this.track.maxLag } : null,
      lastTrack: this.lastTrack,
      background: { ...this.background },
      hasUserImage: !!this.userImage,
      objects: this.objects.objects.map((o) => ({
        id: o.id,
        name: o.name,
        color: [...o.color],
        hidden: o.hidden,
        effect: { ...o.effect },
        points: [...o.prompts].map(([frame, p]) => ({ frame, points: p.points.map((q) => ({ ...q })) })),
        boxes: [...o.prompts].filter(([, p]) => p.box).map(([frame, p]) => ({ frame, box: { ...(p.box as Box) } })),
      })),
      selectedId: this.objects.selectedId,
      masks: this.masks.toJSON(),
    };
  }
}
