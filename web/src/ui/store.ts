// What the page knows about a session: its objects (the prompts on each frame, their effect, their
// visibility), the history of prompt edits (undo / redo) and the masks the server sent, keyed by
// frame index and object id.

import { objectColor, type Rgb } from '../lib/colors';
import type { Choice } from '../lib/effects';
import { rleArea, type RleMask } from '../lib/rle';

export interface Point {
  x: number; // 0..1 of the frame width
  y: number; // 0..1 of the frame height
  label: 0 | 1; // 1 positive, 0 negative
}

/** A box prompt, corners in 0..1 (x0 <= x1, y0 <= y1). */
export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** An object's prompts on one frame: what addPoints gets, in full, after every change. */
export interface Prompts {
  points: Point[];
  box: Box | null;
}

export const NO_PROMPTS: Prompts = Object.freeze({ points: [], box: null }) as Prompts;

export interface TrackedObject {
  id: number; // the object id sent to the server
  name: string;
  color: Rgb;
  prompts: Map<number, Prompts>; // frame index -> prompts
  effect: Choice;
  hidden: boolean;
}

export const DEFAULT_OBJECT_EFFECT: Choice = { effect: 'fill', variant: 0 };

export function isEmpty(p: Prompts | undefined): boolean {
  return !p || (p.points.length === 0 && !p.box);
}

export function samePrompts(a: Prompts | undefined, b: Prompts | undefined): boolean {
  return JSON.stringify(a ?? NO_PROMPTS) === JSON.stringify(b ?? NO_PROMPTS);
}

/** The addPoints payload of a prompt set: a box as two corner points (labels 2, 3) first, as
 *  SAM 2's add_new_points_or_box puts it, then the clicked points. */
export function promptPoints(p: Prompts): { x: number; y: number; label: number }[] {
  const out: { x: number; y: number; label: number }[] = [];
  if (p.box) out.push({ x: p.box.x0, y: p.box.y0, label: 2 }, { x: p.box.x1, y: p.box.y1, label: 3 });
  for (const q of p.points) out.push({ x: q.x, y: q.y, label: q.label });
  return out;
}

export class ObjectList {
  readonly objects: TrackedObject[] = [];
  selectedId: number | null = null;
  private nextId = 1;

  add(): TrackedObject {
    const id = this.nextId++;
    const obj: TrackedObject = {
      id,
      name: `Object ${id}`,
      color: objectColor(id - 1),
      prompts: new Map(),
      effect: { ...DEFAULT_OBJECT_EFFECT },
      hidden: false,
    };
    this.objects.push(obj);
    this.selectedId = id;
    return obj;
  }

  get(id: number): TrackedObject | undefined {
    return this.objects.find((o) => o.id === id);
  }

  get selected(): TrackedObject | undefined {
    return this.selectedId === null ? undefined : this.get(this.selectedId);
  }

  remove(id: number): void {
    const i = this.objects.findIndex((o) => o.id === id);
    if (i < 0) return;
    this.objects.splice(i, 1);
    if (this.selectedId === id) {
      const next = this.objects[Math.min(i, this.objects.length - 1)];
      this.selectedId = next ? next.id : null;
    }
  }

  rename(id: number, name: string): void {
    const o = this.get(id);
    if (o) o.name = name.trim() || `Object ${id}`;
  }

  /** Objects the server has prompts for (on any frame). */
  withPrompts(): TrackedObject[] {
    return this.objects.filter((o) => [...o.prompts.values()].some((p) => !isEmpty(p)));
  }

  promptCount(obj: TrackedObject): number {
    let n = 0;
    for (const p of obj.prompts.values()) n += p.points.length + (p.box ? 1 : 0);
    return n;
  }

  clearPrompts(): void {
    for (const o of this.objects) o.prompts.clear();
  }
}

/** One prompt edit: an object's prompts on a frame before and after. */
export interface Edit {
  objectId: number;
  frame: number;
  before: Prompts;
  after: Prompts;
}

/** Undo / redo of prompt edits. */
export class History {
  private done: Edit[] = [];
  private undone: Edit[] = [];
  static readonly LIMIT = 200;

  record(e: Edit): void {
    this.done.push(e);
    if (this.done.length > History.LIMIT) this.done.shift();
    this.undone = [];
  }

  get canUndo(): boolean {
    return this.done.length > 0;
  }

  get canRedo(): boolean {
    return this.undone.length > 0;
  }

  /** The edit to revert (apply its `before`), moved to the redo stack. */
  undo(): Edit | undefined {
    const e = this.done.pop();
    if (e) this.undone.push(e);
    return e;
  }

  /** The edit to apply again (its `after`), moved back to the undo stack. */
  redo(): Edit | undefined {
    const e = this.undone.pop();
    if (e) this.done.push(e);
    return e;
  }

  /** An undo or redo the server refused: back where it was. */
  restore(e: Edit, wasUndo: boolean): void {
    if (wasUndo) {
      this.undone.pop();
      this.done.push(e);
    } else {
      this.done.pop();
      this.undone.push(e);
    }
  }

  /** Drops a just-recorded edit the server refused (the newest matching one). */
  forgetLast(objectId: number, frame: number, after: Prompts): void {
    for (let i = this.done.length - 1; i >= 0; i--) {
      const e = this.done[i];
      if (e.objectId === objectId && e.frame === frame && samePrompts(e.after, after)) {
        this.done.splice(i, 1);
        return;
      }
    }
  }

  forget(objectId?: number): void {
    if (objectId === undefined) {
      this.done = [];
      this.undone = [];
      return;
    }
    this.done = this.done.filter((e) => e.objectId !== objectId);
    this.undone = this.undone.filter((e) => e.objectId !== objectId);
  }
}

interface StoredMask {
  mask: RleMask;
  area: number;
}

export class MaskStore {
  private frames = new Map<number, Map<number, StoredMask>>();
  /** Bumped on every change, so views can tell when to redraw. */
  version = 0;

  set(frameIndex: number, objectId: number, mask: RleMask): void {
    let f = this.frames.get(frameIndex);
    if (!f) this.frames.set(frameIndex, (f = new Map()));
    let area = 0;
    try {
      area = rleArea(mask);
    } catch {
      area = 0;
    }
    f.set(objectId, { mask, area });
    this.version++;
  }

  /** Replaces the masks of the listed objects on a frame (an addPoints/stream answer). */
  setFrame(frameIndex: number, masks: { objectId: number; mask: RleMask }[]): void {
    for (const m of masks) this.set(frameIndex, m.objectId, m.mask);
    if (masks.length === 0) this.version++;
  }

  get(frameIndex: number): Map<number, RleMask> | undefined {
    const f = this.frames.get(frameIndex);
    if (!f) return undefined;
    return new Map([...f].map(([id, m]) => [id, m.mask]));
  }

  mask(frameIndex: number, objectId: number): RleMask | undefined {
    return this.frames.get(frameIndex)?.get(objectId)?.mask;
  }

  removeObject(objectId: number): void {
    for (const f of this.frames.values()) f.delete(objectId);
    this.version++;
  }

  clear(): void {
    this.frames.clear();
    this.version++;
  }

  /** Frame indices that have a mask for at least one of `objectIds`. */
  framesWithMasks(objectIds?: ReadonlySet<number>): number[] {
    const out: number[] = [];
    for (const [frame, masks] of this.frames) {
      for (const id of masks.keys()) {
        if (!objectIds || objectIds.has(id)) {
          out.push(frame);
          break;
        }
      }
    }
    return out.sort((a, b) => a - b);
  }

  /** Frames where the object's mask is present (at least one pixel): its timeline. */
  presence(objectId: number): number[] {
    const out: number[] = [];
    for (const [frame, masks] of this.frames) if ((masks.get(objectId)?.area ?? 0) > 0) out.push(frame);
    return out.sort((a, b) => a - b);
  }

  /** Plain data, for the test hook and debugging. */
  toJSON(): { frameIndex: number; objectId: number; size: [number, number]; counts: string; area: number }[] {
    const out: { frameIndex: number; objectId: number; size: [number, number]; counts: string; area: number }[] = [];
    for (const [frameIndex, masks] of [...this.frames].sort((a, b) => a[0] - b[0])) {
      for (const [objectId, m] of masks) out.push({ frameIndex, objectId, size: m.mask.size, counts: m.mask.counts, area: m.area });
    }
    return out;
  }
}
