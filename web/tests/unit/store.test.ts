import { describe, expect, it } from 'vitest';
import { History, MaskStore, ObjectList, promptPoints, samePrompts, type Prompts } from '../../src/ui/store';
import { parseFramePart } from '../../src/api/propagate';
import { serverMessage, isExpiredMessage } from '../../src/api/errors';
import { graphqlResult } from '../../src/api/graphql';

const m = (counts: string) => ({ size: [2, 2] as [number, number], counts });

describe('objects', () => {
  it('adds, selects, renames and removes without a cap', () => {
    const list = new ObjectList();
    for (let i = 0; i < 100; i++) list.add();
    expect(list.objects.map((o) => o.id)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(list.selectedId).toBe(100);
    list.rename(3, '  cup ');
    expect(list.get(3)?.name).toBe('cup');
    list.rename(3, '   ');
    expect(list.get(3)?.name).toBe('Object 3');
    list.selectedId = 50;
    list.remove(50);
    expect(list.selectedId).toBe(51); // the next one in the list
    list.remove(100);
    expect(list.get(100)).toBeUndefined();
    // Ids are never reused (the server may still know a removed one).
    expect(list.add().id).toBe(101);
  });

  it('counts prompts and finds objects that have some', () => {
    const list = new ObjectList();
    const a = list.add();
    list.add();
    a.prompts.set(4, { points: [{ x: 0.1, y: 0.2, label: 1 }, { x: 0.3, y: 0.4, label: 0 }], box: null });
    a.prompts.set(9, { points: [], box: null });
    a.prompts.set(11, { points: [], box: { x0: 0.1, y0: 0.1, x1: 0.5, y1: 0.6 } });
    expect(list.promptCount(a)).toBe(3);
    expect(list.withPrompts().map((o) => o.id)).toEqual([1]);
    expect(a.effect).toEqual({ effect: 'fill', variant: 0 });
    expect(a.hidden).toBe(false);
    list.clearPrompts();
    expect(list.withPrompts()).toEqual([]);
  });

  it('sends a box as two corner points (labels 2 and 3) before the clicks', () => {
    const p: Prompts = { points: [{ x: 0.5, y: 0.5, label: 0 }], box: { x0: 0.1, y0: 0.2, x1: 0.3, y1: 0.4 } };
    expect(promptPoints(p)).toEqual([
      { x: 0.1, y: 0.2, label: 2 },
      { x: 0.3, y: 0.4, label: 3 },
      { x: 0.5, y: 0.5, label: 0 },
    ]);
    expect(promptPoints({ points: [], box: null })).toEqual([]);
    expect(samePrompts(p, { ...p })).toBe(true);
    expect(samePrompts(p, undefined)).toBe(false);
  });
});

describe('undo and redo', () => {
  const P = (n: number): Prompts => ({ points: Array.from({ length: n }, (_, i) => ({ x: i / 10, y: 0, label: 1 })), box: null });

  it('undoes to the state before an edit and redoes it, in order', () => {
    const h = new History();
    h.record({ objectId: 1, frame: 0, before: P(0), after: P(1) });
    h.record({ objectId: 1, frame: 0, before: P(1), after: P(2) });
    expect(h.canRedo).toBe(false);
    expect(h.undo()?.before).toEqual(P(1));
    expect(h.undo()?.before).toEqual(P(0));
    expect(h.undo()).toBeUndefined();
    expect(h.redo()?.after).toEqual(P(1));
    // A new edit drops what could be redone.
    h.record({ objectId: 2, frame: 3, before: P(0), after: P(1) });
    expect(h.canRedo).toBe(false);
    expect(h.undo()?.objectId).toBe(2);
    // A refused undo goes back on the undo stack.
    h.restore({ objectId: 2, frame: 3, before: P(0), after: P(1) }, true);
    expect(h.canRedo).toBe(false);
    expect(h.undo()?.objectId).toBe(2);
    h.forget(2);
    expect(h.canRedo).toBe(false);
    expect(h.undo()?.objectId).toBe(1);
  });
});

describe('masks by frame and object', () => {
  it('keeps each frame\'s masks apart and replaces per object', () => {
    const s = new MaskStore();
    s.setFrame(3, [{ objectId: 1, mask: m('04') }, { objectId: 2, mask: m('13') }]);
    s.setFrame(4, [{ objectId: 1, mask: m('22') }]);
    s.setFrame(3, [{ objectId: 1, mask: m('31') }]);
    expect(s.get(3)?.get(1)?.counts).toBe('31');
    expect(s.get(3)?.get(2)?.counts).toBe('13');
    expect(s.get(4)?.get(1)?.counts).toBe('22');
    expect(s.get(5)).toBeUndefined();
    expect(s.framesWithMasks()).toEqual([3, 4]);
    expect(s.framesWithMasks(new Set([2]))).toEqual([3]);
    const v = s.version;
    s.removeObject(1);
    expect(s.version).toBeGreaterThan(v);
    expect(s.framesWithMasks()).toEqual([3]);
    expect(s.toJSON()).toEqual([{ frameIndex: 3, objectId: 2, size: [2, 2], counts: '13', area: 3 }]);
    s.clear();
    expect(s.toJSON()).toEqual([]);
  });

  it('puts on an object\'s timeline only the frames where its mask has pixels', () => {
    const s = new MaskStore();
    s.setFrame(0, [{ objectId: 2, mask: m('13') }]);
    s.setFrame(6, [{ objectId: 2, mask: m('4') }]); // tracked, but not there
    s.setFrame(2, [{ objectId: 2, mask: m('04') }]);
    expect(s.presence(2)).toEqual([0, 2]);
    expect(s.framesWithMasks(new Set([2]))).toEqual([0, 2, 6]);
    expect(s.presence(9)).toEqual([]);
  });
});

describe('wire formats', () => {
  const enc = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));

  it('reads a stream part as the backend writes it', () => {
    const f = parseFramePart(enc({ frame_index: 7, results: [{ object_id: 2, mask: { size: [720, 1280], counts: 'abc' } }] }));
    expect(f).toEqual({ frameIndex: 7, masks: [{ objectId: 2, mask: { size: [720, 1280], counts: 'abc' } }] });
    expect(parseFramePart(enc({ frame_index: 0, results: [] })).masks).toEqual([]);
  });

  it('refuses malformed parts with a reason', () => {
    expect(() => parseFramePart(new TextEncoder().encode('{'))).toThrow(/not JSON/);
    expect(() => parseFramePart(enc({ results: [] }))).toThrow(/frame_index/);
    expect(() => parseFramePart(enc({ frame_index: 1, results: [{ object_id: 1, mask: { size: [1], counts: 'a' } }] }))).toThrow(/malformed/);
  });

  it('takes the server\'s words from any error body', () => {
    expect(serverMessage('{"errors": [{"message": "Cannot find session x; it might have expired"}]}')).toBe(
      'Cannot find session x; it might have expired',
    );
    expect(serverMessage('{"error": "resource not found"}')).toBe('resource not found');
    expect(serverMessage('Bad Gateway')).toBe('Bad Gateway');
    expect(serverMessage('  ')).toBeNull();
    expect(isExpiredMessage('Cannot find session abc; it might have expired')).toBe(true);
    expect(isExpiredMessage('upload too large')).toBe(false);
  });

  it('turns GraphQL errors into typed errors', () => {
    expect(graphqlResult({ data: { ok: 1 } }, 'x')).toEqual({ ok: 1 });
    expect(() => graphqlResult({ errors: [{ message: 'Cannot find session s; it might have expired' }] }, 'x')).toThrow(
      expect.objectContaining({ kind: 'expired' }),
    );
    expect(() => graphqlResult({ data: null, errors: [{ message: 'boom' }] }, 'x')).toThrow(
      expect.objectContaining({ kind: 'graphql', message: 'boom' }),
    );
    expect(() => graphqlResult({}, 'Loading')).toThrow(/no data/);
  });
});
