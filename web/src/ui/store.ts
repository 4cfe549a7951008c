// What the page knows about a session: its objects (with the points clicked on each frame)
// and the masks the server sent, keyed by frame index and object id.

import { objectColor, type Rgb } from '../lib/colors';
import type { RleMask } from '../lib/rle';

export interface Point {
  x: number; // 0..1 of the frame width
  y: number; // 0..1 of the frame height
  label: 0 | 1; // 1 positive, 0 negative
}

export interface TrackedObject {
  id: number; // the object id sent to the server
  name: string;
  color: Rgb;
  points: Map<number, Point[]>; // frame index -> points, in click order
}

export class ObjectList {
  readonly objects: TrackedObject[] = [];
  selectedId: number | null = null;
  private nextId = 1;

  add(): TrackedObject {
    const id = this.nextId++;
    const obj: TrackedObject = { id, name: `Object ${id}`, color: objectColor(id - 1), points: new Map() };
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

  /** Objects the server has points for (on any frame). */
  withPoints(): TrackedObject[] {
    return this.objects.filter((o) => [...o.points.values()].some((p) => p.length > 0));
  }

  pointCount(obj: TrackedObject): number {
    let n = 0;
    for (const p of obj.points.values()) n += p.length;
    return n;
  }

  clearPoints(): void {
    for (const o of this.objects) o.points.clear();
  }
}

export class MaskStore {
  private frames = new Map<number, Map<number, RleMask>>();
  /** Bumped on every change, so views can tell when to redraw. */
  version = 0;

  set(frameIndex: number, objectId: number, mask: RleMask): void {
    let f = this.frames.get(frameIndex);
    if (!f) this.frames.set(frameIndex, (f = new Map()));
    f.set(objectId, mask);
    this.version++;
  }

  /** Replaces the masks of the listed objects on a frame (an addPoints/stream answer). */
  setFrame(frameIndex: number, masks: { objectId: number; mask: RleMask }[]): void {
    for (const m of masks) this.set(frameIndex, m.objectId, m.mask);
    if (masks.length === 0) this.version++;
  }

  get(frameIndex: number): Map<number, RleMask> | undefined {
    return this.frames.get(frameIndex);
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

  /** Plain data, for the test hook and debugging. */
  toJSON(): { frameIndex: number; objectId: number; size: [number, number]; counts: string }[] {
    const out: { frameIndex: number; objectId: number; size: [number, number]; counts: string }[] = [];
    for (const [frameIndex, masks] of [...this.frames].sort((a, b) => a[0] - b[0])) {
      for (const [objectId, m] of masks) out.push({ frameIndex, objectId, size: m.size, counts: m.counts });
    }
    return out;
  }
}
