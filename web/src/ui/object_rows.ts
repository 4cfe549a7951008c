// One row per object: its thumbnail, its name, a timeline of the frames where its mask is present,
// and the buttons to edit (select for prompts), hide or delete it; in the effects step, its effect
// and variant.

import { cssColor } from '../lib/colors';
import { OBJECT_EFFECTS, objectEffect, type Choice } from '../lib/effects';
import { clear, h } from './dom';
import type { MaskStore, ObjectList, TrackedObject } from './store';

export interface ObjectRowsHost {
  select(o: TrackedObject): void;
  toggleHidden(o: TrackedObject): void;
  remove(o: TrackedObject): void;
  rename(o: TrackedObject, name: string): void;
  setEffect(o: TrackedObject, c: Choice): void;
}

export interface RowsState {
  busy: boolean; // delete disabled (tracking, or no session)
  effects: boolean; // show the effect pickers (step 3)
  frame: number;
  frameCount: number;
}

const TIMELINE_WIDTH = 240;

export class ObjectRows {
  readonly root = h('ul', { class: 'object-list', 'aria-label': 'Objects' });
  private presence = new Map<number, { version: number; frames: number[] }>();

  constructor(
    private readonly objects: ObjectList,
    private readonly masks: MaskStore,
    private readonly thumbs: Map<number, HTMLCanvasElement>,
    private readonly host: ObjectRowsHost,
  ) {}

  render(state: RowsState): void {
    const focused = document.activeElement as HTMLElement | null;
    const row = focused?.closest('[data-object]') as HTMLElement | null;
    const focusKey = row && this.root.contains(row) ? `${row.dataset.object}:${focused?.className.split(' ')[0] ?? ''}` : '';
    clear(this.root);
    for (const o of this.objects.objects) this.root.append(this.row(o, state));
    if (this.objects.objects.length === 0) {
      this.root.append(h('li', { class: 'empty' }, 'No objects. Add one, then click the video.'));
    }
    if (focusKey) {
      const [id, cls] = focusKey.split(':');
      this.root.querySelector<HTMLElement>(`[data-object="${id}"] .${cls || 'edit'}`)?.focus();
    }
    this.update(state);
  }

  private row(o: TrackedObject, state: RowsState): HTMLLIElement {
    const selected = o.id === this.objects.selectedId;
    const count = this.objects.promptCount(o);
    const nameInput = h('input', {
      type: 'text',
      class: 'name',
      value: o.name,
      'aria-label': `Name of object ${o.id}`,
      maxlength: 60,
      onchange: () => {
        this.host.rename(o, nameInput.value);
        nameInput.value = o.name;
      },
      onkeydown: (e: KeyboardEvent) => {
        if (e.key === 'Enter') nameInput.blur();
      },
    });
    const thumb = h('canvas', { class: 'thumb', width: 48, height: 48, 'aria-hidden': 'true', style: `border-color:${cssColor(o.color)}` });
    const timeline = h('canvas', {
      class: 'timeline',
      width: TIMELINE_WIDTH,
      height: 8,
      role: 'img',
      'aria-label': `Frames where ${o.name} is present`,
    });
    const head = h('div', { class: 'obj-head' }, nameInput, h('span', { class: 'count', title: 'Prompts' }, `${count} prompt${count === 1 ? '' : 's'}`));
    const main = h('div', { class: 'obj-main' }, head, timeline);
    if (state.effects) main.append(this.effectPicker(o));
    const actions = h(
      'div',
      { class: 'obj-actions' },
      h(
        'button',
        {
          type: 'button',
          class: 'edit',
          'aria-pressed': selected ? 'true' : 'false',
          'aria-label': `Edit ${o.name}`,
          title: 'Select it: clicks on the video add its points',
          onclick: () => this.host.select(o),
        },
        selected ? 'Editing' : 'Edit',
      ),
      h(
        'button',
        {
          type: 'button',
          class: 'hide',
          'aria-pressed': o.hidden ? 'true' : 'false',
          'aria-label': `${o.hidden ? 'Show' : 'Hide'} ${o.name}`,
          title: o.hidden ? 'Show it again' : 'Hide it (no mask, no effect; kept on the server)',
          onclick: () => this.host.toggleHidden(o),
        },
        o.hidden ? 'Show' : 'Hide',
      ),
      h(
        'button',
        {
          type: 'button',
          class: 'remove',
          'aria-label': `Delete ${o.name}`,
          title: `Delete ${o.name}`,
          disabled: state.busy,
          onclick: () => this.host.remove(o),
        },
        '✕',
      ),
    );
    const cls = ['object', selected ? 'selected' : '', o.hidden ? 'is-hidden' : ''].filter(Boolean).join(' ');
    return h('li', { class: cls, dataset: { object: String(o.id), color: o.color.join(',') } }, thumb, main, actions);
  }

  private effectPicker(o: TrackedObject): HTMLElement {
    const effect = h(
      'select',
      {
        class: 'effect',
        'aria-label': `Effect of ${o.name}`,
        onchange: () => this.host.setEffect(o, { effect: effect.value, variant: 0 }),
      },
      OBJECT_EFFECTS.map((e) => h('option', { value: e.name, selected: e.name === o.effect.effect }, e.label)),
    );
    const def = objectEffect(o.effect.effect);
    const variant = h(
      'select',
      {
        class: 'variant',
        'aria-label': `Variant of ${o.name}'s effect`,
        disabled: def.variants.length < 2,
        onchange: () => this.host.setEffect(o, { effect: o.effect.effect, variant: Number(variant.value) }),
      },
      def.variants.map((v, i) => h('option', { value: String(i), selected: i === o.effect.variant }, v.label)),
    );
    return h('div', { class: 'obj-effect' }, effect, variant);
  }

  /** Redraws thumbnails and timelines (cheap; called for every frame shown). */
  update(state: RowsState): void {
    for (const o of this.objects.objects) {
      const li = this.root.querySelector<HTMLElement>(`[data-object="${o.id}"]`);
      if (!li) continue;
      const thumb = li.querySelector<HTMLCanvasElement>('canvas.thumb');
      const src = this.thumbs.get(o.id);
      const tctx = thumb?.getContext('2d');
      if (thumb && tctx) {
        tctx.fillStyle = '#000';
        tctx.fillRect(0, 0, thumb.width, thumb.height);
        if (src) tctx.drawImage(src, 0, 0, thumb.width, thumb.height);
        else {
          tctx.fillStyle = cssColor(o.color);
          tctx.fillRect(16, 16, 16, 16);
        }
      }
      const tl = li.querySelector<HTMLCanvasElement>('canvas.timeline');
      const ctx = tl?.getContext('2d');
      if (!tl || !ctx || state.frameCount <= 0) continue;
      const n = state.frameCount;
      const w = tl.width;
      ctx.clearRect(0, 0, w, tl.height);
      ctx.fillStyle = 'rgba(128,128,128,0.25)';
      ctx.fillRect(0, 0, w, tl.height);
      ctx.fillStyle = cssColor(o.color);
      let cached = this.presence.get(o.id);
      if (!cached || cached.version !== this.masks.version) {
        cached = { version: this.masks.version, frames: this.masks.presence(o.id) };
        this.presence.set(o.id, cached);
      }
      const present = cached.frames;
      tl.dataset.frames = present.join(',');
      for (const f of present) {
        const x0 = Math.floor((f / n) * w);
        const x1 = Math.max(x0 + 1, Math.floor(((f + 1) / n) * w));
        ctx.fillRect(x0, 0, x1 - x0, tl.height);
      }
      ctx.fillStyle = '#ffffff';
      ctx.fillRect(Math.min(w - 1, Math.floor((state.frame / n) * w)), 0, 1, tl.height);
    }
  }
}
