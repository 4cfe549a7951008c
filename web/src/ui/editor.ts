// The video view: one session on one video. Points in, masks out, tracking, playback, export.

import { ApiError, describe, isAbort } from '../api/errors';
import { fetchExport, saveBlob, type ExportKind } from '../api/exports';
import type { FrameMasks, GraphQLClient, Video } from '../api/graphql';
import { propagate } from '../api/propagate';
import { cssColor } from '../lib/colors';
import { formatClock } from '../lib/frames';
import type { OverlayMode } from '../lib/overlay';
import { clear, fileName, formatBytes, h } from './dom';
import { FramePlayer } from './player';
import { Stage, type PointInput } from './stage';
import { MaskStore, ObjectList, type Point, type TrackedObject } from './store';

export interface EditorHost {
  api: GraphQLClient;
  /** Leaves the editor (back to the gallery). */
  close(): void;
  announce(text: string): void;
}

type Phase = 'loading' | 'ready' | 'tracking' | 'expired' | 'failed';

interface TrackRun {
  abort: AbortController;
  started: number;
  received: number;
  expected: number;
  frames: Set<number>;
  cancelled: boolean;
}

export class Editor {
  readonly root: HTMLElement;
  readonly objects = new ObjectList();
  readonly masks = new MaskStore();
  private readonly stage: Stage;
  private readonly player: FramePlayer;
  private sessionId: string | null = null;
  private phase: Phase = 'loading';
  private mode: OverlayMode = 'filled';
  private queue: Promise<unknown> = Promise.resolve();
  private track: TrackRun | null = null;
  private loadAbort = new AbortController();
  private followStream = true;
  private pendingRequests = 0;
  private destroyed = false;
  private busyTimer = 0;
  private busyShown = false;

  // controls
  private readonly banner = h('div', { class: 'banner', hidden: true });
  private readonly playButton = h('button', { type: 'button', class: 'play' }, 'Play');
  private readonly prevButton = h('button', { type: 'button', 'aria-label': 'Previous frame', title: 'Previous frame (,)' }, '◀︎');
  private readonly nextButton = h('button', { type: 'button', 'aria-label': 'Next frame', title: 'Next frame (.)' }, '▶︎');
  private readonly scrubber = h('input', { type: 'range', min: 0, max: 0, step: 1, value: 0, class: 'scrubber', id: 'scrubber' });
  private readonly frameLabel = h('output', { class: 'frame-label', for: 'scrubber', 'aria-live': 'off' });
  private readonly coverage = h('canvas', { class: 'coverage', height: 6, width: 600, 'aria-hidden': 'true' });
  private readonly objectList = h('ul', { class: 'object-list', 'aria-label': 'Objects' });
  private readonly addObjectButton = h('button', { type: 'button' }, '+ Add object');
  private readonly clearFrameButton = h('button', { type: 'button' }, 'Clear points on this frame');
  private readonly clearAllButton = h('button', { type: 'button' }, 'Clear all points');
  private readonly trackButton = h('button', { type: 'button', class: 'primary' }, 'Track objects');
  private readonly cancelButton = h('button', { type: 'button', disabled: true }, 'Cancel');
  private readonly trackProgress = h('progress', { max: 1, value: 0, 'aria-label': 'Tracking progress' });
  private readonly trackStats = h('p', { class: 'track-stats', 'aria-live': 'polite' });
  private readonly exportButtons: Record<ExportKind, HTMLButtonElement> = {
    'masks.json': h('button', { type: 'button' }, 'Masks (COCO RLE JSON)'),
    'masks.zip': h('button', { type: 'button' }, 'Masks (indexed PNG zip)'),
    'overlay.mp4': h('button', { type: 'button' }, 'Overlay video (MP4)'),
  };
  private readonly exportStatus = h('p', { class: 'export-status', 'aria-live': 'polite' });
  private readonly sessionLine = h('p', { class: 'session-line' });

  constructor(
    private readonly host: EditorHost,
    readonly video: Video,
  ) {
    this.stage = new Stage(
      `Video frame. Click to add a positive point to the selected object; Shift+click or right-click for a ` +
        `negative point. With the keyboard: arrow keys move the cursor, Enter adds a positive point, ` +
        `Shift+Enter a negative one, Space plays or pauses.`,
    );
    this.stage.setAspect(video.width || 16, video.height || 9);
    this.player = new FramePlayer(this.stage.frameCanvas, this.stage.videoHost);
    this.root = this.build();
    this.stage.fitInto(this.stage.root.parentElement as HTMLElement);
    this.wire();
    this.refresh();
  }

  // --- layout ---------------------------------------------------------------------------------

  private build(): HTMLElement {
    const modes: [OverlayMode, string][] = [
      ['filled', 'Filled'],
      ['outlined', 'Outlined'],
      ['cutout', 'Cut-out'],
    ];
    const modeField = h(
      'fieldset',
      { class: 'modes' },
      h('legend', {}, 'Mask display'),
      modes.map(([value, label]) =>
        h(
          'label',
          {},
          h('input', {
            type: 'radio',
            name: 'overlay-mode',
            value,
            checked: value === this.mode,
            onchange: () => {
              this.mode = value;
              this.redraw();
            },
          }),
          ` ${label}`,
        ),
      ),
    );
    return h(
      'section',
      { class: 'editor', 'aria-label': `Editing ${fileName(this.video.path)}` },
      h(
        'div',
        { class: 'editor-main' },
        this.banner,
        h('div', { class: 'stage-wrap' }, this.stage.root),
        h(
          'div',
          { class: 'transport' },
          this.prevButton,
          this.playButton,
          this.nextButton,
          h('label', { class: 'visually-hidden', for: 'scrubber' }, 'Frame'),
          h('div', { class: 'scrub' }, this.scrubber, this.coverage),
          this.frameLabel,
        ),
      ),
      h(
        'aside',
        { class: 'sidebar' },
        h(
          'section',
          { class: 'panel', 'aria-labelledby': 'objects-heading' },
          h('h2', { id: 'objects-heading' }, 'Objects'),
          this.objectList,
          h('div', { class: 'row' }, this.addObjectButton),
          h(
            'p',
            { class: 'hint' },
            'Click the frame to add a point to the selected object. Shift+click or right-click adds a negative point.',
          ),
          h('div', { class: 'row wrap' }, this.clearFrameButton, this.clearAllButton),
        ),
        h(
          'section',
          { class: 'panel', 'aria-labelledby': 'track-heading' },
          h('h2', { id: 'track-heading' }, 'Track'),
          h('div', { class: 'row' }, this.trackButton, this.cancelButton),
          this.trackProgress,
          this.trackStats,
        ),
        h('section', { class: 'panel', 'aria-labelledby': 'display-heading' }, h('h2', { id: 'display-heading' }, 'Display'), modeField),
        h(
          'section',
          { class: 'panel', 'aria-labelledby': 'export-heading' },
          h('h2', { id: 'export-heading' }, 'Export'),
          h('div', { class: 'column' }, Object.values(this.exportButtons)),
          this.exportStatus,
        ),
        this.sessionLine,
      ),
    );
  }

  private wire(): void {
    this.stage.onPoint = (p) => this.addPoint(p);
    this.stage.onTogglePlay = () => this.togglePlay();
    this.player.onFrame(() => {
      this.redraw();
      this.updateTransport();
    });
    this.player.setOnEnded(() => this.refresh());
    this.playButton.addEventListener('click', () => this.togglePlay());
    this.prevButton.addEventListener('click', () => this.step(-1));
    this.nextButton.addEventListener('click', () => this.step(1));
    this.scrubber.addEventListener('input', () => {
      if (this.track) this.followStream = false;
      this.goTo(Number(this.scrubber.value));
    });
    this.addObjectButton.addEventListener('click', () => {
      const o = this.objects.add();
      this.renderObjects();
      this.redraw();
      this.host.announce(`${o.name} added and selected`);
      this.objectList.querySelector<HTMLInputElement>(`[data-object="${o.id}"] input`)?.focus();
    });
    this.clearFrameButton.addEventListener('click', () => this.clearFrame());
    this.clearAllButton.addEventListener('click', () => this.clearAll());
    this.trackButton.addEventListener('click', () => void this.startTracking());
    this.cancelButton.addEventListener('click', () => this.cancelTracking());
    for (const [kind, button] of Object.entries(this.exportButtons) as [ExportKind, HTMLButtonElement][]) {
      button.addEventListener('click', () => void this.exportFile(kind));
    }
    this.root.addEventListener('keydown', (e) => this.shortcut(e));
  }

  private shortcut(e: KeyboardEvent): void {
    const t = e.target as HTMLElement;
    if (t.closest('input, textarea, select') || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === ',' || e.key === '.') {
      this.step(e.key === ',' ? -1 : 1);
      e.preventDefault();
    } else if (t === this.root || t === document.body) {
      if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
        this.step(e.key === 'ArrowLeft' ? -1 : 1);
        e.preventDefault();
      }
    }
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
      this.renderObjects();
      this.refresh();
      this.redraw();
      this.host.announce(`${fileName(this.video.path)} is ready: ${this.player.frameCount} frames. Click an object to segment it.`);
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

  /** Starts a fresh session after expiry and replays every point, so the masks come back. */
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
        for (const [frame, points] of o.points) {
          if (points.length === 0) continue;
          this.applyFrame(await this.host.api.addPoints(this.sessionId, frame, o.id, points));
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
    this.player.destroy();
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
      .then(() => this.updateTransport())
      .catch((e) => this.handleError(e, 'Showing the frame'));
  }

  private step(delta: number): void {
    if (!this.player.clock) return;
    if (this.player.playing) this.player.pause(true);
    this.goTo(this.player.frame + delta);
  }

  private togglePlay(): void {
    if (!this.player.clock || this.phase === 'loading') return;
    if (this.player.playing) {
      this.player.pause(true);
    } else {
      this.player.play().catch((e) => this.handleError(e, 'Playing'));
    }
    this.refresh();
  }

  private redraw(): void {
    if (!this.player.clock) return;
    const frame = this.player.frame;
    this.stage.drawOverlay(this.masks.get(frame), this.objects.objects, this.objects.selectedId, frame, this.mode);
    this.drawCoverage();
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

  // --- points and objects ---------------------------------------------------------------------

  private addPoint(input: PointInput): void {
    if (this.phase === 'tracking') {
      this.host.announce('Tracking is running: cancel it or wait for it to finish before adding points.');
      this.stage.setMessage('Tracking is running — cancel it to add points.', 'info');
      setTimeout(() => this.phase === 'tracking' && this.stage.setMessage('Tracking…', 'busy'), 1500);
      return;
    }
    if (this.phase !== 'ready' || !this.sessionId || !this.player.clock) return;
    if (this.player.playing) this.player.pause(true);
    const obj = this.objects.selected ?? this.objects.add();
    const frame = this.player.frame;
    const points = [...(obj.points.get(frame) ?? []), { x: input.x, y: input.y, label: input.label } as Point];
    obj.points.set(frame, points);
    this.renderObjects();
    this.redraw();
    const sid = this.sessionId;
    this.enqueue(() => this.host.api.addPoints(sid, frame, obj.id, obj.points.get(frame) ?? []))
      .then((answer) => {
        this.applyFrame(answer);
        this.host.announce(`${input.label ? 'Positive' : 'Negative'} point added to ${obj.name} on frame ${frame + 1}`);
      })
      .catch((e) => {
        // The server did not take the point: take it off the page too.
        const now = obj.points.get(frame) ?? [];
        const i = now.lastIndexOf(points[points.length - 1]);
        if (i >= 0) now.splice(i, 1);
        this.handleError(e, 'Adding the point');
      })
      .finally(() => {
        this.renderObjects();
        this.redraw();
      });
  }

  private applyFrame(answer: FrameMasks): void {
    this.masks.setFrame(
      answer.frameIndex,
      answer.rleMaskList.map((m) => ({ objectId: m.objectId, mask: m.rleMask })),
    );
    if (answer.frameIndex === this.player.frame) this.redraw();
  }

  private clearFrame(): void {
    if (this.phase !== 'ready' || !this.sessionId) return;
    const frame = this.player.frame;
    const sid = this.sessionId;
    const targets = this.objects.objects.filter((o) => (o.points.get(frame)?.length ?? 0) > 0);
    if (targets.length === 0) {
      this.host.announce('There are no points on this frame.');
      return;
    }
    for (const o of targets) {
      this.enqueue(() => this.host.api.clearPointsInFrame(sid, frame, o.id))
        .then((answer) => {
          o.points.delete(frame);
          this.applyFrame(answer);
          this.host.announce(`Points of ${o.name} on frame ${frame + 1} cleared`);
        })
        .catch((e) => this.handleError(e, 'Clearing points'))
        .finally(() => {
          this.renderObjects();
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
        this.objects.clearPoints();
        this.masks.clear();
        this.trackStats.textContent = '';
        this.trackProgress.value = 0;
        this.host.announce('All points and masks cleared');
      })
      .catch((e) => this.handleError(e, 'Clearing all points'))
      .finally(() => {
        this.renderObjects();
        this.redraw();
      });
  }

  private removeObject(obj: TrackedObject): void {
    if (this.phase === 'tracking') return;
    const known = this.objects.pointCount(obj) > 0 || this.masks.framesWithMasks(new Set([obj.id])).length > 0;
    const finish = () => {
      this.objects.remove(obj.id);
      this.masks.removeObject(obj.id);
      this.renderObjects();
      this.redraw();
      this.host.announce(`${obj.name} removed`);
      const next = this.objectList.querySelector<HTMLElement>('button.select');
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

  private renderObjects(): void {
    const focused = document.activeElement as HTMLElement | null;
    const focusKey = focused?.closest('[data-object]') ? `${(focused.closest('[data-object]') as HTMLElement).dataset.object}:${focused.className}` : '';
    clear(this.objectList);
    const busy = this.phase !== 'ready';
    for (const o of this.objects.objects) {
      const selected = o.id === this.objects.selectedId;
      const count = this.objects.pointCount(o);
      const nameInput = h('input', {
        type: 'text',
        class: 'name',
        value: o.name,
        'aria-label': `Name of object ${o.id}`,
        maxlength: 60,
        onchange: () => {
          this.objects.rename(o.id, nameInput.value);
          nameInput.value = o.name;
          this.host.announce(`Renamed to ${o.name}`);
        },
        onkeydown: (e: KeyboardEvent) => {
          if (e.key === 'Enter') nameInput.blur();
        },
      });
      const item = h(
        'li',
        { class: selected ? 'object selected' : 'object', dataset: { object: String(o.id), color: o.color.join(',') } },
        h('span', { class: 'swatch', style: `background:${cssColor(o.color)}`, 'aria-hidden': 'true' }),
        h(
          'button',
          {
            type: 'button',
            class: 'select',
            'aria-pressed': selected ? 'true' : 'false',
            'aria-label': `Select ${o.name}`,
            onclick: () => {
              this.objects.selectedId = o.id;
              this.renderObjects();
              this.redraw();
              this.host.announce(`${o.name} selected`);
            },
          },
          selected ? 'Selected' : 'Select',
        ),
        nameInput,
        h('span', { class: 'count', title: 'Points' }, `${count} pt${count === 1 ? '' : 's'}`),
        h(
          'button',
          {
            type: 'button',
            class: 'remove',
            'aria-label': `Remove ${o.name}`,
            title: `Remove ${o.name}`,
            disabled: busy,
            onclick: () => this.removeObject(o),
          },
          '✕',
        ),
      );
      this.objectList.append(item);
    }
    if (this.objects.objects.length === 0) {
      this.objectList.append(h('li', { class: 'empty' }, 'No objects. Add one, then click the video.'));
    }
    if (focusKey) {
      const [id, cls] = focusKey.split(':');
      const el = this.objectList.querySelector<HTMLElement>(`[data-object="${id}"] .${cls.split(' ')[0]}`);
      el?.focus();
    }
  }

  // --- tracking -------------------------------------------------------------------------------

  private async startTracking(): Promise<void> {
    if (this.phase !== 'ready' || !this.sessionId || this.track) return;
    if (this.objects.withPoints().length === 0) {
      this.trackStats.textContent = 'Add at least one point before tracking.';
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
      cancelled: false,
    };
    this.track = run;
    this.followStream = true;
    this.phase = 'tracking';
    this.trackProgress.max = run.expected;
    this.trackProgress.value = 0;
    this.trackStats.textContent = 'Starting…';
    this.stage.setMessage('Tracking…', 'busy');
    this.refresh();
    try {
      await propagate(this.host.api.url('propagate_in_video'), sid, start, run.abort.signal, (f) => {
        if (this.track !== run) return;
        run.received++;
        run.frames.add(f.frameIndex);
        this.masks.setFrame(f.frameIndex, f.masks);
        if (this.followStream) this.goTo(f.frameIndex);
        else if (f.frameIndex === this.player.frame) this.redraw();
        else this.drawCoverage();
        this.showTrackStats(run);
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
    if (this.phase === 'tracking') this.phase = 'ready';
    this.stage.setMessage('');
    const elapsed = (performance.now() - run.started) / 1000;
    const rate = run.received / Math.max(elapsed, 1e-3);
    if (how === 'done') {
      this.trackProgress.value = this.trackProgress.max;
      this.trackStats.textContent = `Tracked ${run.frames.size} frames in ${elapsed.toFixed(1)} s (${rate.toFixed(1)} frames/s).`;
      this.host.announce('Tracking finished');
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

  private async exportFile(kind: ExportKind): Promise<void> {
    if (!this.sessionId) return;
    const button = this.exportButtons[kind];
    const base = fileName(this.video.path).replace(/\.[^.]+$/, '');
    const name = `${base}-${kind}`;
    button.disabled = true;
    this.exportStatus.dataset.kind = 'busy';
    this.exportStatus.textContent =
      kind === 'overlay.mp4' ? 'Rendering the overlay video on the server…' : `Preparing ${kind}…`;
    try {
      const blob = await fetchExport(this.host.api.base, this.sessionId, kind, (got, total) => {
        this.exportStatus.textContent = total
          ? `Downloading ${kind}: ${Math.round((100 * got) / total)}%`
          : `Downloading ${kind}: ${formatBytes(got)}`;
      });
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
    const hasPoints = this.objects.withPoints().length > 0;
    this.playButton.textContent = this.player.playing ? 'Pause' : 'Play';
    this.playButton.setAttribute('aria-label', this.player.playing ? 'Pause' : 'Play');
    for (const b of [this.playButton, this.prevButton, this.nextButton]) b.disabled = !hasVideo;
    this.scrubber.disabled = !hasVideo;
    this.addObjectButton.disabled = !(ready || tracking);
    this.clearFrameButton.disabled = !ready || !hasPoints;
    this.clearAllButton.disabled = !ready || !hasPoints;
    this.trackButton.disabled = !ready || !hasPoints;
    this.trackButton.textContent = tracking ? 'Tracking…' : 'Track objects';
    this.cancelButton.disabled = !tracking;
    for (const b of Object.values(this.exportButtons)) b.disabled = !ready || !hasPoints;
    this.root.dataset.phase = this.phase;
    this.root.dataset.busy = this.pendingRequests > 0 ? 'true' : 'false';
    this.showBusy(ready && this.pendingRequests > 0);
    this.sessionLine.textContent = this.sessionId
      ? `Session ${this.sessionId.slice(0, 8)} · ${this.video.width}×${this.video.height}` +
        (this.player.timingNote ? ` · ${this.player.timingNote}` : '')
      : this.phase === 'expired'
        ? 'Session expired'
        : '';
    this.updateTransport();
    if (this.phase === 'ready' || this.phase === 'tracking') {
      for (const b of this.objectList.querySelectorAll<HTMLButtonElement>('button.remove')) b.disabled = tracking;
    }
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

  /** Read-only view of the state, for the browser tests. */
  snapshot() {
    return {
      phase: this.phase,
      sessionId: this.sessionId,
      frame: this.player.frame,
      frameCount: this.player.frameCount,
      playing: this.player.playing,
      seeking: this.player.busy,
      mode: this.mode,
      busy: this.pendingRequests > 0,
      tracking: this.track ? { received: this.track.received, frames: this.track.frames.size } : null,
      objects: this.objects.objects.map((o) => ({
        id: o.id,
        name: o.name,
        color: [...o.color],
        points: [...o.points].map(([frame, pts]) => ({ frame, points: pts.map((p) => ({ ...p })) })),
      })),
      selectedId: this.objects.selectedId,
      masks: this.masks.toJSON(),
    };
  }
}
