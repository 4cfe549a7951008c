import { describe, expect, it } from 'vitest';
import { MaskStore, ObjectList } from '../../src/ui/store';
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

  it('counts points and finds objects that have some', () => {
    const list = new ObjectList();
    const a = list.add();
    list.add();
    a.points.set(4, [{ x: 0.1, y: 0.2, label: 1 }, { x: 0.3, y: 0.4, label: 0 }]);
    a.points.set(9, []);
    expect(list.pointCount(a)).toBe(2);
    expect(list.withPoints().map((o) => o.id)).toEqual([1]);
    list.clearPoints();
    expect(list.withPoints()).toEqual([]);
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
    expect(s.toJSON()).toEqual([{ frameIndex: 3, objectId: 2, size: [2, 2], counts: '13' }]);
    s.clear();
    expect(s.toJSON()).toEqual([]);
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
