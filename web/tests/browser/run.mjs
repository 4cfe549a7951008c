// Browser tests of the sam2c page (issues 6 and 18): headless Chromium, driven by playwright-core,
// against a real `sam2 serve` with the micro checkpoint. Every step leaves a screenshot in
// artifacts/web/ (SAM2_WEB_ARTIFACTS). Fails on any console error or unhandled rejection in the
// page, except those a step provokes on purpose and names. Pixels are checked against masks
// decoded here (harness.mjs), not by the page.
//
//   node tests/browser/run.mjs        (make test-web builds everything first)

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  Steps,
  assert,
  dataFolder,
  decodeFull,
  decodeRle,
  decodeSmall,
  launchBrowser,
  locate,
  makeClip,
  startServer,
  tempDir,
  watchConsole,
} from './harness.mjs';
import { changes, firstDifference, glowRegion, grab, spotRegion, labelsOf, maeRgbaRgb, mix8, reference, region } from './pixels.mjs';

const env = locate();
const work = tempDir('sam2-web-test-');
// Temporary folders go even when a server fails to start or an exception escapes.
const temps = [work];
process.on('exit', () => {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});
const steps = new Steps(env.artifacts);
const started = Date.now();

// Test media: a 60-frame clip of the golden demo video for tracking (small and quick on the
// micro model), the full videos for the gallery, a 1-second clip to upload, a picture.
const CLIP_FRAMES = 60;
const clip = join(work, '00_clip.mp4');
makeClip(join(env.gallery, '05_default_juggle.mp4'), clip, { frames: CLIP_FRAMES, width: 640, height: 360 });
const uploadClip = join(work, 'dog_upload.mp4');
makeClip(join(env.gallery, '01_dog.mp4'), uploadClip, { frames: 24, width: 480, height: 270, start: 2 });
const picture = join(work, 'picture.png');
execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=1', '-frames:v', '1', picture]);
const SMALL_W = 64;
const SMALL_H = 36;
const clipFrames = decodeSmall(clip, SMALL_W, SMALL_H);
assert(clipFrames.length === CLIP_FRAMES, `ffmpeg decoded ${clipFrames.length} frames of the clip`);

const dataA = dataFolder([
  [clip, '00_clip.mp4'],
  [join(env.gallery, '01_dog.mp4'), '01_dog.mp4'],
  [join(env.gallery, '05_default_juggle.mp4'), '05_default_juggle.mp4'],
]);
const dataB = dataFolder([]);
temps.push(dataA, dataB);

const FOLLOW_WINDOW = 4; // src/ui/editor.ts: the display is at most this many frames behind the stream
const FILL_TINT = 128; // src/app/effects_spec.json: fill, variant 0 (the default effect)

// --- page helpers ------------------------------------------------------------------------------

const snapshot = (page) => page.evaluate(() => window.__sam2c.snapshot());

async function waitFor(page, predicate, arg, what, timeout = 30_000) {
  try {
    await page.waitForFunction(predicate, arg, { timeout, polling: 50 });
  } catch (e) {
    const s = await snapshot(page).catch(() => null);
    const summary = s ? { ...s, masks: `${s.masks.length} masks` } : null;
    throw new Error(`timed out waiting for ${what}; page state: ${JSON.stringify(summary)}`);
  }
}

/** Waits until no request or seek is pending. */
function settle(page) {
  return waitFor(page, () => {
    const s = window.__sam2c.snapshot();
    return s && !s.busy && !s.seeking;
  }, null, 'the page to settle');
}

/** A screenshot inside a step (the runner takes one after every step too). */
const shot = (p, name) => p.screenshot({ path: join(env.artifacts, `${String(steps.n).padStart(2, '0')}-${name}.png`) });

/**
 * The default effect (fill, tint) on the shown frame, byte for byte: each visible object's mask
 * (decoded here) gets its colour mixed in at alpha 128 over the frame's pixels, nothing else
 * changes. The frame canvas is the source the page reads.
 */
async function expectFillExact(page, what) {
  await settle(page);
  const s = await snapshot(page);
  const src = await grab(page, '.frame-canvas');
  const out = await grab(page, '.effects-canvas');
  const labels = labelsOf(s, src.w, src.h);
  const visible = s.objects.filter((o) => !o.hidden);
  assert(visible.every((o) => o.effect.effect === 'fill' && o.effect.variant === 0), `${what}: every object has the default effect`);
  let painted = 0;
  for (let i = 0; i < labels.length; i++) {
    const k = labels[i];
    for (let c = 0; c < 3; c++) {
      const want = k ? mix8(src.data[4 * i + c], visible[k - 1].color[c], FILL_TINT) : src.data[4 * i + c];
      if (out.data[4 * i + c] !== want) {
        throw new Error(`${what}: frame ${s.frame}, pixel (${i % src.w}, ${Math.floor(i / src.w)}) channel ${c}: ` +
          `${out.data[4 * i + c]}, want ${want} (label ${k})`);
      }
    }
    if (k) painted++;
  }
  return { s, painted };
}

/** Clicks the frame at a fraction of its size (opts: Playwright's modifiers, button). */
async function clickStage(page, fx, fy, opts = {}) {
  const stage = page.locator('.stage');
  const box = await stage.boundingBox();
  await stage.click({ position: { x: fx * box.width, y: fy * box.height }, ...opts });
}

/** Drags on the frame from one fraction to another (a box prompt). */
async function dragStage(page, from, to) {
  const box = await page.locator('.stage').boundingBox();
  await page.mouse.move(box.x + from[0] * box.width, box.y + from[1] * box.height);
  await page.mouse.down();
  for (let i = 1; i <= 5; i++) {
    await page.mouse.move(box.x + (from[0] + ((to[0] - from[0]) * i) / 5) * box.width,
      box.y + (from[1] + ((to[1] - from[1]) * i) / 5) * box.height);
  }
  await page.mouse.up();
}

/** Index of the clip frame (ffmpeg decode) that the frame canvas looks most like. */
async function closestFrame(page) {
  const small = await page.evaluate(([w, h]) => {
    const src = document.querySelector('.frame-canvas');
    const c = document.createElement('canvas');
    c.width = w;
    c.height = h;
    const ctx = c.getContext('2d');
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(src, 0, 0, w, h);
    return Array.from(ctx.getImageData(0, 0, w, h).data);
  }, [SMALL_W, SMALL_H]);
  const scores = clipFrames.map((f) => {
    let sum = 0;
    for (let i = 0, j = 0; i < f.length; i += 3, j += 4) {
      sum += Math.abs(f[i] - small[j]) + Math.abs(f[i + 1] - small[j + 1]) + Math.abs(f[i + 2] - small[j + 2]);
    }
    return sum / f.length;
  });
  const best = scores.indexOf(Math.min(...scores));
  return { best, scores };
}

/** Moves the scrubber with the keyboard (Home, then ArrowRight) to frame `target`. Playback
 *  (auto-play after tracking) is paused first; if it moved the frame meanwhile, tries again. */
async function seekWithKeyboard(page, target) {
  for (let attempt = 1; ; attempt++) {
    await settle(page);
    if (await snapshot(page).then((s) => s.playing)) {
      // Playback may end on its own meanwhile (the button says Play again): then look again.
      const clicked = await page.getByRole('button', { name: 'Pause' }).click({ timeout: 2_000 }).then(() => true, () => false);
      if (!clicked) {
        assert(attempt < 5, 'the Play button said Pause while playing');
        continue;
      }
      // From the pause on, the scrubber names the frame shown, also while the pause re-seeks to
      // it (it once said 0 then: Home changed nothing and the seek landed on the paused frame).
      const after = await page.evaluate(() => ({ s: window.__sam2c.snapshot(), value: document.querySelector('#scrubber').value }));
      assert(!after.s.playing, 'Pause stopped playback');
      assert(after.s.frame >= 0 && Number(after.value) === after.s.frame,
        `after Pause the scrubber names the frame shown (scrubber ${after.value}, frame ${after.s.frame})`);
    }
    await page.locator('#scrubber').focus();
    await page.keyboard.press('Home');
    for (let i = 0; i < target; i++) await page.keyboard.press('ArrowRight');
    try {
      await waitFor(page, (t) => {
        const s = window.__sam2c.snapshot();
        return s.frame === t && !s.seeking;
      }, target, `frame ${target}`, attempt < 3 ? 10_000 : 30_000);
      return;
    } catch (e) {
      if (attempt >= 3) throw e;
    }
  }
}

async function goToStep(page, n) {
  await page.locator(`button.step[data-step="${n}"]`).click();
  await waitFor(page, (k) => window.__sam2c.snapshot().step === k, n, `step ${n}`);
}

/** Records the GraphQL mutations the page sends (operation name, variables, and the answer). */
function recordMutations(page) {
  const log = [];
  page.on('request', (req) => {
    if (!req.url().endsWith('/graphql') || req.method() !== 'POST') return;
    try {
      const body = JSON.parse(req.postData() ?? '{}');
      const m = /mutation (\w+)/.exec(body.query ?? '');
      if (!m) return;
      const entry = { op: m[1], input: body.variables?.input, answer: null };
      log.push(entry);
      req.response().then((res) => res?.json()).then((j) => (entry.answer = j?.data ?? null)).catch(() => undefined);
    } catch {
      // uploads are multipart
    }
  });
  return log;
}

/** Waits (up to 10 s) for the answer of a recorded mutation. */
async function answerOf(entry) {
  for (let i = 0; i < 200 && entry.answer === null; i++) await new Promise((r) => setTimeout(r, 50));
  return entry;
}

/** The counts string an addPoints answer gave an object. */
function answered(entry, objectId) {
  return entry.answer?.addPoints?.rleMaskList.find((m) => m.objectId === objectId)?.rleMask.counts;
}

/** Picks an effect and variant in the UI (effects with one variant leave its list disabled). */
async function setEffect(page, objectName, effect, variant) {
  await page.getByLabel(`Effect of ${objectName}`).selectOption(effect);
  const v = page.getByLabel(`Variant of ${objectName}'s effect`);
  if (await v.isEnabled()) await v.selectOption(String(variant));
}

async function setBackground(page, effect, variant) {
  await page.getByLabel('Background effect').selectOption(effect);
  const v = page.getByLabel('Background variant');
  if (await v.isEnabled()) await v.selectOption(String(variant));
}

/** The timeline of an object's row: which frames its canvas marks in the object's colour. */
async function timelineFrames(page, objectId, frameCount) {
  return page.evaluate(([id, n]) => {
    const li = document.querySelector(`.object[data-object="${id}"]`);
    const c = li.querySelector('canvas.timeline');
    const [r, g, b] = li.dataset.color.split(',').map(Number);
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    const frames = [];
    for (let f = 0; f < n; f++) {
      const x = Math.floor(((f + 0.5) / n) * c.width);
      const i = 4 * (Math.floor(c.height / 2) * c.width + x);
      if (Math.abs(d[i] - r) <= 2 && Math.abs(d[i + 1] - g) <= 2 && Math.abs(d[i + 2] - b) <= 2) frames.push(f);
    }
    return frames;
  }, [objectId, frameCount]);
}

/** Frames where an object's mask (decoded here) has pixels, from the page's masks (with their
 *  areas, [frame, pixels], if asked). */
function presentFrames(s, objectId, withArea = false) {
  const out = [];
  for (const m of s.masks) {
    if (m.objectId !== objectId) continue;
    const area = decodeRle(m.counts, m.size[0], m.size[1]).reduce((a, b) => a + b, 0);
    if (area) out.push([m.frameIndex, area]);
  }
  out.sort((a, b) => a[0] - b[0]);
  return withArea ? out : out.map((x) => x[0]);
}

/** Every request a browser context makes that goes anywhere but the test servers (the page
 *  loads nothing from outside the server it came from). */
function foreignRequests(context, servers) {
  const out = [];
  context.on('request', (req) => {
    const url = req.url();
    if (/^(data|blob):/.test(url) || servers.some((s) => url.startsWith(`${s.url}/`))) return;
    out.push(url);
  });
  return out;
}

// --- the main flow (server A: gallery) ------------------------------------------------------------

const serverA = await startServer({}, env, dataA);
const serverB = await startServer({}, env, dataB, ['--session-ttl', '3']);
const browser = await launchBrowser(env.chromium);
// The servers the main browser may ask (server C, EdgeTAM, joins them for its step).
const ourServers = [serverA, serverB];
const foreign = foreignRequests(browser.context, ourServers);
const page = await browser.context.newPage();
const consoleA = watchConsole(page, 'main');
const mutations = recordMutations(page);
const figures = {};

try {
  await steps.run('gallery-and-model', page, async () => {
    await page.goto(serverA.url + '/');
    await page.waitForSelector('.card', { timeout: 20_000 });
    const cards = await page.locator('.card').count();
    assert(cards === 3, `3 gallery cards, got ${cards}`);
    await page.waitForFunction(() => [...document.querySelectorAll('.card img')].every((i) => i.complete && i.naturalWidth > 0));
    assert(await page.locator('.badge').count() === 1, 'one video is marked as the default');
    // The model the server reports (Query.modelInfo).
    await page.locator('.model-name').waitFor({ timeout: 10_000 });
    const model = await page.locator('.model-name').textContent();
    assert(model === 'Model: SAM 2.1 micro', `the model is named in the header: "${model}"`);
    const configName = await page.locator('.model-name').getAttribute('data-model');
    assert(configName === 'sam2.1_hiera_micro', `the badge names the configuration too: "${configName}"`);
  });

  await steps.run('open-video-step-1', page, async () => {
    await page.locator('.card[data-path="gallery/00_clip.mp4"]').click();
    await waitFor(page, () => window.__sam2c.snapshot()?.phase === 'ready', null, 'the session to start');
    const s = await snapshot(page);
    assert(s.frameCount === CLIP_FRAMES, `page counts ${s.frameCount} frames, the clip has ${CLIP_FRAMES}`);
    assert(/^[0-9a-f-]{36}$/.test(s.sessionId), 'a session id');
    assert(s.renderer === 'webgl2', `effects drawn with WebGL2 (${s.renderer})`);
    const { best } = await closestFrame(page);
    assert(best === 0, `the first frame is shown (looks like frame ${best})`);
    // Step 1 of 3, with its one-line tip.
    assert(s.step === 1, 'step 1');
    assert(await page.locator('button.step[aria-current="step"]').textContent().then((t) => t.includes('Select objects')), 'step 1 is marked current');
    assert((await page.locator('.tip').textContent()).startsWith('Click an object'), 'the tip of step 1');
    // The filmstrip's thumbnails.
    await waitFor(page, () => window.__sam2c.snapshot().filmstripThumbs === 12, null, 'the filmstrip thumbnails');
    const strip = await grab(page, '.filmstrip-thumbs');
    let lit = 0;
    for (let i = 0; i < strip.data.length; i += 4) lit += strip.data[i] + strip.data[i + 1] + strip.data[i + 2] > 60 ? 1 : 0;
    assert(lit > strip.w * strip.h * 0.5, `the filmstrip shows pictures (${lit} of ${strip.w * strip.h} pixels lit)`);
  });

  await steps.run('first-click-mask', page, async () => {
    await clickStage(page, 0.52, 0.35);
    await waitFor(page, () => window.__sam2c.snapshot().masks.some((m) => m.frameIndex === 0 && m.objectId === 1),
      null, 'the first mask');
    const { painted } = await expectFillExact(page, 'first mask');
    assert(painted > 50, `the mask is painted (${painted} pixels)`);
    const prompts = await grab(page, '.prompt-canvas');
    let opaque = 0;
    for (let i = 3; i < prompts.data.length; i += 4) opaque += prompts.data[i] === 255 ? 1 : 0;
    assert(opaque > 20, `the point is drawn (${opaque} pixels)`);
  });

  await steps.run('second-object', page, async () => {
    await page.getByRole('button', { name: '+ Add object' }).click();
    let s = await snapshot(page);
    assert(s.objects.length === 2 && s.selectedId === 2, 'a second object is added and selected');
    const name = page.getByLabel('Name of object 2');
    await name.fill('ball');
    await name.press('Enter');
    await clickStage(page, 0.25, 0.75);
    await waitFor(page, () => window.__sam2c.snapshot().masks.some((m) => m.frameIndex === 0 && m.objectId === 2),
      null, 'the second object mask');
    await clickStage(page, 0.9, 0.1, { modifiers: ['Shift'] }); // a negative point
    await clickStage(page, 0.05, 0.9, { button: 'right' }); // and another
    await waitFor(page, () => {
      const s = window.__sam2c.snapshot();
      const pts = s.objects[1].points.find((p) => p.frame === 0)?.points ?? [];
      return pts.length === 3 && pts[1].label === 0 && pts[2].label === 0 && !s.busy;
    }, null, 'the negative points');
    s = await snapshot(page);
    assert(s.objects[1].name === 'ball', `object renamed (${s.objects[1].name})`);
    await expectFillExact(page, 'two objects');
  });

  await steps.run('remove-one-point', page, async () => {
    // Click the first negative point of "ball": it goes, and the whole remaining set is sent.
    const before = (await snapshot(page)).objects[1].points.find((p) => p.frame === 0).points;
    const n0 = mutations.length;
    await clickStage(page, before[1].x, before[1].y);
    await waitFor(page, () => {
      const s = window.__sam2c.snapshot();
      return !s.busy && (s.objects[1].points.find((p) => p.frame === 0)?.points.length ?? 0) === 2;
    }, null, 'the point to be removed');
    const sent = mutations.slice(n0).filter((m) => m.op === 'PageAddPoints');
    assert(sent.length === 1, `one addPoints for the removal (${sent.length})`);
    const input = sent[0].input;
    const want = [before[0], before[2]];
    assert(input.objectId === 2 && input.frameIndex === 0 && input.clearOldPoints === true, 'for ball on frame 0, replacing its points');
    assert(JSON.stringify(input.labels) === JSON.stringify(want.map((p) => p.label)), `labels ${JSON.stringify(input.labels)}`);
    assert(JSON.stringify(input.points) === JSON.stringify(want.map((p) => [p.x, p.y])),
      `the remaining points are sent: ${JSON.stringify(input.points)} vs ${JSON.stringify(want.map((p) => [p.x, p.y]))}`);
    await expectFillExact(page, 'after removing a point');
  });

  let boxMask = null;
  await steps.run('box-prompt', page, async () => {
    await page.getByRole('button', { name: '+ Add object' }).click();
    const n0 = mutations.length;
    await dragStage(page, [0.6, 0.15], [0.85, 0.6]);
    await waitFor(page, () => {
      const s = window.__sam2c.snapshot();
      return !s.busy && s.masks.some((m) => m.frameIndex === 0 && m.objectId === 3);
    }, null, 'the box prompt\'s mask');
    const sent = mutations.slice(n0).filter((m) => m.op === 'PageAddPoints');
    assert(sent.length === 1, `one addPoints for the box (${sent.length})`);
    const { input } = sent[0];
    assert(JSON.stringify(input.labels) === '[2,3]', `a box is sent as two corners, labels 2 and 3 (${JSON.stringify(input.labels)})`);
    const [[x0, y0], [x1, y1]] = input.points;
    assert(Math.abs(x0 - 0.6) < 0.02 && Math.abs(y0 - 0.15) < 0.02 && Math.abs(x1 - 0.85) < 0.02 && Math.abs(y1 - 0.6) < 0.02,
      `the box's corners (${input.points})`);
    const s = await snapshot(page);
    const m = s.masks.find((x) => x.frameIndex === 0 && x.objectId === 3);
    const bits = decodeRle(m.counts, m.size[0], m.size[1]);
    const area = bits.reduce((a, b) => a + b, 0);
    assert(area > 0, `the box prompt produced a mask (${area} pixels)`);
    boxMask = m.counts;
    assert(s.objects[2].boxes.length === 1, 'the box is kept as the object\'s prompt');
    await expectFillExact(page, 'with the box object');
  });

  await steps.run('undo-redo', page, async () => {
    // A point inside the box: the full set (box corners, then the point) is sent.
    const n0 = mutations.length;
    await clickStage(page, 0.7, 0.3);
    await waitFor(page, () => !window.__sam2c.snapshot().busy && window.__sam2c.snapshot().objects[2].points[0]?.points.length === 1,
      null, 'the point in the box');
    const withPoint = mutations.slice(n0).filter((m) => m.op === 'PageAddPoints');
    assert(JSON.stringify(withPoint[0].input.labels) === '[2,3,1]', `box then point (${JSON.stringify(withPoint[0].input.labels)})`);
    const maskWithPoint = (await snapshot(page)).masks.find((x) => x.frameIndex === 0 && x.objectId === 3).counts;
    assert(await page.getByRole('button', { name: 'Undo' }).isEnabled(), 'Undo is enabled');
    // Undo: back to the box alone, sent in full; the mask is the box's again.
    const n1 = mutations.length;
    await page.locator('.stage').focus();
    await page.keyboard.press('Control+z');
    await waitFor(page, () => !window.__sam2c.snapshot().busy && (window.__sam2c.snapshot().objects[2].points[0]?.points.length ?? 0) === 0,
      null, 'the undo');
    let sent = mutations.slice(n1).filter((m) => m.op === 'PageAddPoints');
    assert(sent.length === 1 && JSON.stringify(sent[0].input.labels) === '[2,3]', `undo sends the box alone (${JSON.stringify(sent.map((x) => x.input.labels))})`);
    // SAM 2 feeds an object's previous mask back with new clicks, so the box alone need not give
    // the first box's mask again: the page shows what the server answered to the undo.
    let s = await snapshot(page);
    const undoMask = answered(await answerOf(sent[0]), 3);
    assert(undoMask && s.masks.find((x) => x.frameIndex === 0 && x.objectId === 3).counts === undoMask, 'the page shows the undo\'s answer');
    assert(boxMask, 'the box had a mask');
    assert(s.canRedo, 'Redo is possible');
    // Redo (the button): the point again, and its mask.
    const n2 = mutations.length;
    await page.getByRole('button', { name: 'Redo' }).click();
    await waitFor(page, () => !window.__sam2c.snapshot().busy && window.__sam2c.snapshot().objects[2].points[0]?.points.length === 1,
      null, 'the redo');
    sent = mutations.slice(n2).filter((m) => m.op === 'PageAddPoints');
    assert(sent.length === 1 && JSON.stringify(sent[0].input.labels) === '[2,3,1]', 'redo sends box and point');
    s = await snapshot(page);
    assert(s.masks.find((x) => x.frameIndex === 0 && x.objectId === 3).counts === answered(await answerOf(sent[0]), 3), 'the page shows the redo\'s answer');
    assert(maskWithPoint, 'the point had a mask');
    assert(!s.canRedo, 'nothing left to redo');
  });

  await steps.run('object-rows', page, async () => {
    // A row per object: thumbnail, name, timeline, edit / hide / delete.
    assert(await page.locator('.object').count() === 3, 'three rows');
    for (const id of [1, 2, 3]) {
      const row = page.locator(`.object[data-object="${id}"]`);
      for (const sel of ['canvas.thumb', 'input.name', 'canvas.timeline', 'button.edit', 'button.hide', 'button.remove']) {
        assert(await row.locator(sel).count() === 1, `row ${id} has ${sel}`);
      }
      const thumb = await grab(page, `.object[data-object="${id}"] canvas.thumb`);
      let lit = 0;
      for (let i = 0; i < thumb.data.length; i += 4) lit += thumb.data[i] + thumb.data[i + 1] + thumb.data[i + 2] > 30 ? 1 : 0;
      assert(lit > 20, `row ${id}'s thumbnail shows the object (${lit} pixels)`);
      // Only frame 0 has masks yet: the timeline marks it alone.
      const marked = await timelineFrames(page, id, CLIP_FRAMES);
      assert(JSON.stringify(marked) === '[0]', `row ${id}'s timeline marks frame 0 only (${marked})`);
    }
    // Hide: the object is drawn as background (no effect), and kept.
    await page.getByRole('button', { name: 'Hide Object 3' }).click();
    let s = await snapshot(page);
    assert(s.objects[2].hidden, 'object 3 is hidden');
    await expectFillExact(page, 'object 3 hidden');
    await shot(page, 'object-hidden');
    await page.getByRole('button', { name: 'Show Object 3' }).click();
    // Edit selects; delete removes it from the server and the page.
    await page.getByRole('button', { name: 'Edit Object 1' }).click();
    s = await snapshot(page);
    assert(s.selectedId === 1, 'Edit selects the object');
    await page.getByRole('button', { name: 'Delete Object 3' }).click();
    await waitFor(page, () => {
      const s = window.__sam2c.snapshot();
      return !s.busy && s.objects.length === 2 && !s.masks.some((m) => m.objectId === 3);
    }, null, 'object 3 to be deleted');
    assert(mutations.some((m) => m.op === 'PageRemoveObject' && m.input.objectId === 3), 'removeObject was sent');
    await expectFillExact(page, 'after deleting object 3');
  });

  await steps.run('track-follow-autoplay', page, async () => {
    // Measured from outside too: "N of 60 frames" against the frame on screen, every animation
    // frame (forward from frame 0, frame f is the (f+1)-th to arrive).
    await page.evaluate(() => {
      window.__lag = { max: 0, samples: 0 };
      const tick = () => {
        const s = window.__sam2c.snapshot();
        const m = /^(\d+) of \d+ frames/.exec(document.querySelector('.track-stats').textContent);
        if (s.phase === 'tracking' && m && s.frame >= 0) {
          window.__lag.max = Math.max(window.__lag.max, Number(m[1]) - (s.frame + 1));
          window.__lag.samples++;
        }
        if (s.phase === 'tracking' || !window.__lag.done) requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    });
    await page.getByRole('button', { name: 'Track objects' }).click();
    await waitFor(page, () => window.__sam2c.snapshot().phase === 'tracking', null, 'tracking to start', 10_000);
    assert((await snapshot(page)).step === 2, 'step 2 while tracking');
    assert((await page.locator('.tip').textContent()).startsWith('Tracking follows'), 'the tip of step 2');
    await waitFor(page, () => (window.__sam2c.snapshot().tracking?.received ?? 0) >= 10 || window.__sam2c.snapshot().phase === 'ready',
      null, 'the first streamed frames', 60_000);
    await shot(page, 'track-streaming');
    await waitFor(page, () => window.__sam2c.snapshot().phase === 'ready', null, 'tracking to finish', 180_000);
    await page.evaluate(() => (window.__lag.done = true));
    const stats = await page.locator('.track-stats').textContent();
    assert(stats.startsWith(`Tracked ${CLIP_FRAMES} frames`), `the summary says every frame was tracked: "${stats}"`);
    const s = await snapshot(page);
    for (let f = 0; f < CLIP_FRAMES; f++) {
      for (const id of [1, 2]) assert(s.masks.some((m) => m.frameIndex === f && m.objectId === id), `frame ${f} has a mask for object ${id}`);
    }
    // The display followed the stream.
    const lag = await page.evaluate(() => window.__lag);
    figures.lag = { page: s.lastTrack, outside: lag };
    assert(s.lastTrack.samples > 10 && lag.samples > 10, `the lag was sampled (${s.lastTrack.samples}, ${lag.samples})`);
    assert(s.lastTrack.stalls === 0, `the display never stalled (${s.lastTrack.stalls})`);
    assert(s.lastTrack.maxLag <= FOLLOW_WINDOW, `the display was at most ${FOLLOW_WINDOW} frames behind the stream (${s.lastTrack.maxLag})`);
    assert(lag.max <= FOLLOW_WINDOW, `measured from outside: at most ${FOLLOW_WINDOW} frames behind (${lag.max})`);
    // Step 3, and the result plays.
    assert(s.step === 3, 'step 3 after tracking');
    assert((await page.locator('.tip').textContent()).startsWith('Pick an effect'), 'the tip of step 3');
    assert(s.autoplayed, 'auto-play started');
    await waitFor(page, () => window.__sam2c.snapshot().frame >= 3 || !window.__sam2c.snapshot().playing, null, 'playback to advance', 15_000);
    await shot(page, 'autoplay');
  });

  await steps.run('timeline-after-tracking', page, async () => {
    await seekWithKeyboard(page, 0);
    const s = await snapshot(page);
    for (const o of s.objects) {
      const want = presentFrames(s, o.id);
      const marked = await timelineFrames(page, o.id, CLIP_FRAMES);
      assert(JSON.stringify(marked) === JSON.stringify(want),
        `${o.name}'s timeline marks the frames where its mask has pixels: ${marked.length} marked, ${want.length} expected`);
      assert(want.length > 1, `${o.name} is present on tracked frames (${want.length})`);
    }
  });

  await steps.run('cancel-second-run', page, async () => {
    await goToStep(page, 1);
    await seekWithKeyboard(page, 0);
    // Press Cancel as soon as the first frame is shown (from inside the page: the micro model
    // tracks this clip in a few seconds, too fast to wait for a round trip).
    await page.evaluate(() => {
      const stats = document.querySelector('.track-stats');
      const cancel = [...document.querySelectorAll('button')].find((b) => b.textContent === 'Cancel');
      const watch = new MutationObserver(() => {
        if (!/^\d+ of \d+ frames/.test(stats.textContent)) return;
        watch.disconnect();
        cancel.click();
      });
      watch.observe(stats, { childList: true, characterData: true, subtree: true });
    });
    await page.getByRole('button', { name: 'Track objects' }).click();
    await waitFor(page, () => window.__sam2c.snapshot().phase === 'ready', null, 'the cancel to finish', 15_000);
    const text = await page.locator('.track-stats').textContent();
    const m = /cancelled after (\d+) of (\d+) frames/.exec(text);
    assert(m, `the page says the run was cancelled: "${text}"`);
    assert(Number(m[1]) < CLIP_FRAMES, `cancelled mid-way (${m[1]} of ${CLIP_FRAMES})`);
    // The server stopped: the session answers a click at once.
    await seekWithKeyboard(page, 3);
    await clickStage(page, 0.55, 0.3);
    await waitFor(page, () => {
      const s = window.__sam2c.snapshot();
      return !s.busy && (s.objects[0].points.find((p) => p.frame === 3)?.points.length ?? 0) === 1;
    }, null, 'a click after cancelling', 20_000);
  });

  await steps.run('seek-frame-accurate', page, async () => {
    for (const target of [17, 9, 23]) {
      await seekWithKeyboard(page, target);
      const { best, scores } = await closestFrame(page);
      assert(best === target, `frame ${target} shown (the canvas looks like frame ${best}; scores ${scores.map((x) => x.toFixed(1)).join(' ')})`);
      const label = await page.locator('.frame-label').getAttribute('data-frame');
      assert(Number(label) === target, `the label names frame ${target}`);
      await expectFillExact(page, `seek to ${target}`);
    }
  });

  await steps.run('filmstrip-scrub', page, async () => {
    const strip = await page.locator('.filmstrip-strip').boundingBox();
    await page.mouse.move(strip.x + strip.width * 0.1, strip.y + strip.height / 2);
    await page.mouse.down();
    await page.mouse.move(strip.x + strip.width * 0.3, strip.y + strip.height / 2, { steps: 4 });
    await page.mouse.move(strip.x + strip.width * 0.5, strip.y + strip.height / 2, { steps: 4 });
    await page.mouse.up();
    await settle(page);
    const s = await snapshot(page);
    assert(Math.abs(s.frame - 30) <= 2, `dragging on the filmstrip to the middle shows frame ~30 (${s.frame})`);
    const { best } = await closestFrame(page);
    assert(best === s.frame, `the canvas shows frame ${s.frame} (looks like ${best})`);
  });

  // --- effects --------------------------------------------------------------------------------
  const OBJECT_CASES = [
    // [effect, variant, region it may change, its radius, region it must change, radius, share]
    ['fill', 0, 'obj', 0, 'obj', 0, 0.9], ['fill', 1, 'obj', 0, 'obj', 0, 0.9],
    ['outline', 0, 'edge', 2, 'edge', 2, 0.9], ['outline', 1, 'edge', 6, 'edge', 6, 0.9],
    ['cutout', 0, 'ring', 5, 'ring', 5, 0.8], ['cutout', 1, 'ring', 5, 'ring', 5, 0.8],
    // (glow: where its halo, computed here, mixes in at least 24/255 of the colour)
    ['glow', 0, 'near', 12, 'glow', [6, 200], 0.9], ['glow', 1, 'near', 32, 'glow', [16, 255], 0.9],
    ['pixelate', 0, 'obj', 0, 'obj', 0, 0.5], ['pixelate', 1, 'obj', 0, 'obj', 0, 0.5],
    ['erase', 0, 'obj', 0, 'obj', 0, 0.5], ['erase', 1, 'obj', 0, 'obj', 0, 0.9],
    // (spotlight: background outside the circle around the object, computed here: dimmed at all
    // may change, dimmed to 200/255 or darker must)
    ['spotlight', 0, 'spot', [110, 24, 70], 'spot', [110, 24, 70], 0.9],
    ['spotlight', 1, 'spot', [100, 3, 20], 'spot', [100, 3, 20], 0.9],
    ['recolor', 0, 'obj', 0, 'obj', 0, 0.8], ['recolor', 1, 'obj', 0, 'obj', 0, 0.8], ['recolor', 2, 'obj', 0, 'obj', 0, 0.9],
  ];

  /** Renders, checks WebGL2 = the CPU renderer byte for byte, and the changed pixels' region. */
  async function checkEffect(what, k, may, mayR, must, mustR, share) {
    await settle(page);
    const s = await snapshot(page);
    const src = await grab(page, '.frame-canvas');
    const out = await grab(page, '.effects-canvas');
    const ref = await reference(page);
    const diff = firstDifference(out.data, ref);
    assert(diff < 0, `${what}: WebGL2 and the CPU renderer differ at byte ${diff} (${out.data[diff]} vs ${ref[diff]})`);
    const labels = labelsOf(s, src.w, src.h);
    const allowed = may === 'spot'
      ? spotRegion(labels, k, src.w, src.h, mayR[0], mayR[1], mayR[2], 254)
      : region(may, labels, k, src.w, src.h, mayR);
    const required = must === 'glow'
      ? glowRegion(labels, k, src.w, src.h, mustR[0], mustR[1], 24)
      : must === 'spot'
        ? spotRegion(labels, k, src.w, src.h, mustR[0], mustR[1], mustR[2], 200)
        : region(must, labels, k, src.w, src.h, mustR);
    const { mask } = changes(src.data, out.data);
    let outside = 0;
    let req = 0;
    let reqChanged = 0;
    for (let i = 0; i < mask.length; i++) {
      if (mask[i] && !allowed[i]) outside++;
      if (required[i]) {
        req++;
        reqChanged += mask[i];
      }
    }
    assert(outside === 0, `${what}: ${outside} pixels changed outside the ${may} region`);
    assert(req > 0, `${what}: the ${must} region is not empty`);
    (figures.effects ??= {})[what] = { changed: mask.reduce((a, b) => a + b, 0), required: req, requiredChanged: reqChanged };
    assert(reqChanged >= req * share, `${what}: ${reqChanged} of ${req} pixels of the ${must} region changed (want ${share * 100} %)`);
    return { changed: mask.reduce((a, b) => a + b, 0) };
  }

  await steps.run('effects-each-object-effect', page, async () => {
    await goToStep(page, 3);
    // Object 1's masks vary from frame to frame (the micro model), so each effect is checked on
    // the frame where most of it shows: with ball hidden (drawn as background) so that object 1
    // shows whole; for the spotlights, with ball shown, on a frame where their circles around
    // what shows of object 1 still leave background outside.
    const all = await snapshot(page);
    const ballHidden = { ...all, objects: all.objects.map((o) => (o.name === 'ball' ? { ...o, hidden: true } : o)) };
    const largest = { any: [0, 0], spot: [0, 0] };
    for (const [f] of presentFrames(all, 1, true)) {
      const m = all.masks.find((x) => x.frameIndex === f && x.objectId === 1);
      const [h, w] = m.size;
      const count = (labels) => labels.reduce((n, k) => n + (k === 1 ? 1 : 0), 0);
      const alone = count(labelsOf({ ...ballHidden, frame: f }, w, h));
      if (alone > largest.any[1]) largest.any = [f, alone];
      const labels = labelsOf({ ...all, frame: f }, w, h);
      const shown = count(labels);
      if (shown <= largest.spot[1]) continue;
      const dimmed = (v) => spotRegion(labels, 1, w, h, ...v, 200).some((x) => x);
      if (dimmed([110, 24, 70]) && dimmed([100, 3, 20])) largest.spot = [f, shown];
    }
    figures.effectsFrames = largest;
    assert(largest.any[1] >= 200, `object 1 has a mask of some size (${largest.any[1]} pixels on frame ${largest.any[0]})`);
    assert(largest.spot[1] >= 20, `object 1 shows on a frame the spotlights can be checked on (${largest.spot[1]} pixels)`);
    await setEffect(page, 'ball', 'original', 0);
    for (const [effect, variant, may, mayR, must, mustR, share] of OBJECT_CASES) {
      const kind = effect === 'spotlight' ? 'spot' : 'any';
      const hide = kind === 'any';
      if ((await snapshot(page)).objects[1].hidden !== hide) await page.getByRole('button', { name: `${hide ? 'Hide' : 'Show'} ball` }).click();
      if ((await snapshot(page)).frame !== largest[kind][0]) await seekWithKeyboard(page, largest[kind][0]);
      await setEffect(page, 'Object 1', effect, variant);
      const s = await snapshot(page);
      assert(s.objects[0].effect.effect === effect && s.objects[0].effect.variant === variant, `${effect}.${variant} chosen`);
      await checkEffect(`object effect ${effect}.${variant}`, 1, may, mayR, must, mustR, share);
      await shot(page, `effect-${effect}-${variant}`);
    }
    if ((await snapshot(page)).objects[1].hidden) await page.getByRole('button', { name: 'Show ball' }).click();
  });

  await steps.run('effects-each-background', page, async () => {
    await setEffect(page, 'Object 1', 'original', 0);
    await seekWithKeyboard(page, 20);
    // (replace.0 puts frame 0 behind frame 20: where the camera does not move, only coding noise
    // differs, so fewer pixels must change.)
    const cases = [['blur', 0, 0.6], ['blur', 1, 0.6], ['desaturate', 0, 0.6], ['desaturate', 1, 0.6], ['dim', 0, 0.6],
      ['dim', 1, 0.6], ['erase', 0, 0.6], ['erase', 1, 0.6], ['erase', 2, 0.6], ['erase', 3, 0.6], ['replace', 0, 0.2]];
    for (const [effect, variant, share] of cases) {
      await setBackground(page, effect, variant);
      await checkEffect(`background ${effect}.${variant}`, 0, 'bg', 0, 'bg', 0, share);
      await shot(page, `background-${effect}-${variant}`);
    }
    // Erase, transparent: the checkerboard of the spec on every background pixel.
    await setBackground(page, 'erase', 0);
    const s = await snapshot(page);
    const out = await grab(page, '.effects-canvas');
    const labels = labelsOf(s, out.w, out.h);
    for (let i = 0; i < labels.length; i++) {
      if (labels[i]) continue;
      const x = i % out.w;
      const y = Math.floor(i / out.w);
      const v = (Math.floor(x / 16) + Math.floor(y / 16)) % 2 === 0 ? 204 : 255;
      assert(out.data[4 * i] === v && out.data[4 * i + 1] === v && out.data[4 * i + 2] === v, `checkerboard at (${x}, ${y})`);
    }
  });

  await steps.run('background-your-image', page, async () => {
    await setBackground(page, 'replace', 1);
    assert((await page.locator('.bg-note').textContent()).includes('Choose a picture'), 'asks for a picture');
    await page.locator('.bg-file').setInputFiles(picture);
    await waitFor(page, () => window.__sam2c.snapshot().hasUserImage, null, 'the picture');
    await checkEffect('background replace.1', 0, 'bg', 0, 'bg', 0, 0.6);
    // Cover fit, nearest pixel, computed here from ffmpeg's decode of the PNG.
    const s = await snapshot(page);
    const out = await grab(page, '.effects-canvas');
    const pic = decodeFull(picture);
    const labels = labelsOf(s, out.w, out.h);
    const sc = Math.max(out.w / pic.width, out.h / pic.height);
    for (let i = 0; i < labels.length; i += 97) {
      if (labels[i]) continue;
      const x = i % out.w;
      const y = Math.floor(i / out.w);
      const sx = Math.min(pic.width - 1, Math.max(0, Math.floor((x + 0.5 - out.w / 2) / sc + pic.width / 2)));
      const sy = Math.min(pic.height - 1, Math.max(0, Math.floor((y + 0.5 - out.h / 2) / sc + pic.height / 2)));
      const j = 3 * (sy * pic.width + sx);
      for (let c = 0; c < 3; c++) {
        assert(out.data[4 * i + c] === pic.frames[0][j + c], `the picture at (${x}, ${y}): ${out.data[4 * i + c]} vs ${pic.frames[0][j + c]}`);
      }
    }
  });

  await steps.run('surprise-me', page, async () => {
    const before = JSON.stringify((await snapshot(page)).objects.map((o) => o.effect));
    let changed = false;
    for (let i = 0; i < 5 && !changed; i++) {
      await page.getByRole('button', { name: 'Surprise me' }).click();
      const s = await snapshot(page);
      changed = JSON.stringify(s.objects.map((o) => o.effect)) !== before;
      assert(s.objects.every((o) => o.effect.effect !== 'original'), 'every object gets an effect');
    }
    assert(changed, 'Surprise me picks other effects');
    const out = await grab(page, '.effects-canvas');
    const ref = await reference(page);
    assert(firstDifference(out.data, ref) < 0, 'the surprise is drawn as the CPU renderer draws it');
  });

  await steps.run('effects-video-matches-page', page, async () => {
    await setBackground(page, 'desaturate', 0);
    await setEffect(page, 'Object 1', 'glow', 1);
    await setEffect(page, 'ball', 'pixelate', 0);
    // The button: a download of the video the server renders for what the page shows.
    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: 120_000 }),
      page.getByRole('button', { name: 'Effects video (MP4)' }).click(),
    ]);
    assert(download.suggestedFilename() === '00_clip-effects.mp4', `download name ${download.suggestedFilename()}`);
    const saved = join(work, 'effects-ui.mp4');
    await download.saveAs(saved);
    assert(readFileSync(saved).subarray(4, 8).toString('latin1') === 'ftyp', 'an MP4');
    assert(decodeFull(saved).frames.length === CLIP_FRAMES, 'every frame of the video');
    // The same query at a high-quality setting (crf 12), and the same with no effect at all (the
    // codec's and the two decoders' own differences), compared with the page's canvas.
    const sid = (await snapshot(page)).sessionId;
    const query = await page.evaluate(() => window.__sam2c.effectsQuery());
    const fetchVideo = async (q, name) => {
      const res = await fetch(`${serverA.url}/export/${sid}/effects.mp4?${q}&crf=12`);
      assert(res.status === 200, `effects.mp4: HTTP ${res.status}: ${res.status === 200 ? '' : await res.text()}`);
      const file = join(work, name);
      writeFileSync(file, Buffer.from(await res.arrayBuffer()));
      return decodeFull(file).frames;
    };
    const fx = await fetchVideo(query, 'effects.mp4');
    const plain = await fetchVideo('bg=none.0&objects=1:original.0:000000,2:original.0:000000', 'plain.mp4');
    const rows = [];
    for (const f of [0, 20, 41]) {
      await seekWithKeyboard(page, f);
      const canvas = await grab(page, '.effects-canvas');
      const frame = await grab(page, '.frame-canvas');
      const mae = maeRgbaRgb(canvas.data, fx[f]);
      const codec = maeRgbaRgb(frame.data, plain[f]);
      const other = maeRgbaRgb(frame.data, fx[f]); // negative control: the page without effects
      rows.push({ frame: f, mae: +mae.toFixed(2), codec: +codec.toFixed(2), unaffected: +other.toFixed(2) });
      assert(mae <= codec + 1.5, `frame ${f}: effects.mp4 is ${mae.toFixed(2)} levels from the page, the codec alone ${codec.toFixed(2)}`);
      assert(mae * 3 < other, `frame ${f}: and far nearer than to the page without effects (${other.toFixed(2)})`);
    }
    figures.effectsVideo = rows;
    // "Your image": the picture is POSTed with the query, and drawn behind the objects.
    await setBackground(page, 'replace', 1);
    const [imageDownload] = await Promise.all([
      page.waitForEvent('download', { timeout: 120_000 }),
      page.getByRole('button', { name: 'Effects video (MP4)' }).click(),
    ]);
    const withImage = join(work, 'effects-image.mp4');
    await imageDownload.saveAs(withImage);
    assert(decodeFull(withImage).frames.length === CLIP_FRAMES, 'the video with the picture has every frame');
    // The same request at crf 12 (the query and the PNG the page sends), against the canvas.
    const q2 = await page.evaluate(() => window.__sam2c.effectsQuery());
    const png = Buffer.from(await page.evaluate(() => window.__sam2c.effectsPicture()), 'base64');
    const postVideo = async (q, body, name) => {
      const res = await fetch(`${serverA.url}/export/${sid}/effects.mp4?${q}&crf=12`, { method: 'POST', body, headers: { 'Content-Type': 'image/png' } });
      assert(res.status === 200, `effects.mp4 with a picture: HTTP ${res.status}`);
      const file = join(work, name);
      writeFileSync(file, Buffer.from(await res.arrayBuffer()));
      return decodeFull(file).frames[0];
    };
    const got = await postVideo(q2, png, 'effects-image-crf12.mp4');
    await seekWithKeyboard(page, 0);
    const canvas = await grab(page, '.effects-canvas');
    const frame = await grab(page, '.frame-canvas');
    // What the codec alone costs on this picture: the micro model's masks are many small blobs of
    // video inside the saturated test pattern, whose sharp coloured edges H.264's 4:2:0 chroma
    // blurs. So the page's own canvas, sent as the picture with no object, through the same encoder.
    const rawFile = join(work, 'canvas.rgb');
    const canvasPng = join(work, 'canvas.png');
    const rgb = Buffer.alloc(canvas.w * canvas.h * 3);
    for (let i = 0; i < canvas.w * canvas.h; i++) for (let c = 0; c < 3; c++) rgb[3 * i + c] = canvas.data[4 * i + c];
    writeFileSync(rawFile, rgb);
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${canvas.w}x${canvas.h}`, '-i', rawFile, canvasPng]);
    const alone = await postVideo('bg=replace.1', readFileSync(canvasPng), 'canvas-alone-crf12.mp4');
    const codec = maeRgbaRgb(canvas.data, alone);
    const mae = maeRgbaRgb(canvas.data, got);
    const other = maeRgbaRgb(frame.data, got);
    figures.effectsVideoWithPicture = { mae: +mae.toFixed(2), codec: +codec.toFixed(2), unaffected: +other.toFixed(2) };
    assert(mae <= codec + 1.5 && mae * 4 < other,
      `with your picture: frame 0 is ${mae.toFixed(2)} levels from the page (crf 12), the codec alone ${codec.toFixed(2)}, ${other.toFixed(2)} from the bare frame`);
  });

  await steps.run('canvas2d-fallback', page, async () => {
    // The same video with ?renderer=2d: the Canvas2D path draws the CPU renderer's bytes (the
    // WebGL2 path was compared with the same renderer in every effect step above).
    const p2 = await browser.context.newPage();
    const console2 = watchConsole(p2, 'canvas2d');
    try {
      await p2.goto(`${serverA.url}/?renderer=2d#/video/${encodeURIComponent('gallery/00_clip.mp4')}`);
      await waitFor(p2, () => window.__sam2c.snapshot()?.phase === 'ready', null, 'the 2D page');
      assert((await snapshot(p2)).renderer === 'canvas2d', 'the Canvas2D renderer');
      await clickStage(p2, 0.52, 0.35);
      await waitFor(p2, () => window.__sam2c.snapshot().masks.length > 0 && !window.__sam2c.snapshot().busy, null, 'a mask on the 2D page');
      await expectFillExact(p2, 'Canvas2D, default effect');
      await goToStep(p2, 3);
      for (const [bg, bv, fx, fv] of [['blur', 1, 'glow', 0], ['dim', 0, 'pixelate', 1], ['erase', 3, 'cutout', 0], ['replace', 0, 'spotlight', 0]]) {
        await setBackground(p2, bg, bv);
        await setEffect(p2, 'Object 1', fx, fv);
        await settle(p2);
        const c2 = await grab(p2, '.effects-canvas');
        const d = firstDifference(c2.data, await reference(p2));
        assert(d < 0, `Canvas2D ${bg}.${bv} + ${fx}.${fv}: differs from the CPU renderer at byte ${d}`);
      }
      await shot(p2, 'canvas2d');
      assert(console2.errors.length === 0, console2.errors.join('\n'));
    } finally {
      await p2.close();
    }
  });

  await steps.run('playback', page, async () => {
    await setBackground(page, 'none', 0);
    await setEffect(page, 'Object 1', 'fill', 0);
    await setEffect(page, 'ball', 'fill', 0);
    await seekWithKeyboard(page, 0);
    await page.getByRole('button', { name: 'Play' }).click();
    await waitFor(page, () => window.__sam2c.snapshot().frame >= 5, null, 'playback to advance', 15_000);
    await page.getByRole('button', { name: 'Pause' }).click();
    await waitFor(page, () => !window.__sam2c.snapshot().playing, null, 'pause');
    await settle(page); // the pause snaps to the exact frame
    const s = await snapshot(page);
    const { best } = await closestFrame(page);
    assert(best === s.frame, `after pausing, the canvas shows frame ${s.frame} (looks like ${best})`);
    await expectFillExact(page, 'after playback');
  });

  await steps.run('keyboard', page, async () => {
    await goToStep(page, 1);
    // Tab order reaches the stage, the transport and the side panel; focus is visible.
    await page.locator('body').focus();
    const reached = new Set();
    for (let i = 0; i < 45; i++) {
      await page.keyboard.press('Tab');
      const info = await page.evaluate(() => {
        const el = document.activeElement;
        const style = el ? getComputedStyle(el) : null;
        return {
          text: (el?.getAttribute('aria-label') || el?.textContent || el?.className || '').trim().slice(0, 40),
          outline: style ? style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0 : false,
        };
      });
      if (info.outline) reached.add(info.text);
    }
    for (const want of ['Video frame', 'Play', 'Track objects', 'Add object', 'Undo']) {
      assert([...reached].some((t) => t.includes(want)), `Tab reaches "${want}" with a visible focus ring (${[...reached].join(' | ')})`);
    }
    // A point from the keyboard: focus the frame, move the cursor, Enter.
    const count = (s) => s.objects[0].points.reduce((n, p) => n + p.points.length, 0);
    const before = count(await snapshot(page));
    await page.locator('.stage').focus();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await waitFor(page, (b) => {
      const s = window.__sam2c.snapshot();
      return !s.busy && s.objects[0].points.reduce((n, p) => n + p.points.length, 0) === b + 1;
    }, before, 'a keyboard point');
  });

  await steps.run('clear-frame', page, async () => {
    const frame = (await snapshot(page)).frame;
    await page.getByRole('button', { name: 'Clear points on this frame' }).click();
    await waitFor(page, (f) => {
      const s = window.__sam2c.snapshot();
      return !s.busy && s.objects.every((o) => (o.points.find((p) => p.frame === f)?.points.length ?? 0) === 0);
    }, frame, 'the frame to be cleared');
    await expectFillExact(page, 'after clearing the frame');
  });

  await steps.run('delete-object', page, async () => {
    const ball = (await snapshot(page)).objects[1];
    await page.getByRole('button', { name: 'Delete ball' }).click();
    await waitFor(page, () => {
      const s = window.__sam2c.snapshot();
      return !s.busy && s.objects.length === 1 && !s.masks.some((m) => m.objectId === 2);
    }, null, 'the object to be removed');
    assert(await page.locator('.object').count() === 1, 'the side list has one object');
    assert(ball.name === 'ball', 'it was ball');
    await expectFillExact(page, 'after removing');
  });

  await steps.run('export-json', page, async () => {
    await goToStep(page, 3);
    const s = await snapshot(page);
    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: 60_000 }),
      page.getByRole('button', { name: 'Masks (COCO RLE JSON)' }).click(),
    ]);
    assert(download.suggestedFilename().endsWith('-masks.json'), `download name ${download.suggestedFilename()}`);
    const file = join(work, 'masks.json');
    await download.saveAs(file);
    const json = JSON.parse(readFileSync(file, 'utf8'));
    assert(Array.isArray(json.frames) && Array.isArray(json.objects), 'masks.json has "frames" and "objects"');
    assert(json.video.width === s.masks[0].size[1] && json.video.height === s.masks[0].size[0], 'masks.json has the video size');
    const direct = await fetch(`${serverA.url}/export/${s.sessionId}/masks.json`);
    assert(direct.status === 200, `GET /export/<session>/masks.json: HTTP ${direct.status}`);
    assert(JSON.stringify(await direct.json()) === JSON.stringify(json), 'the saved masks.json is the server\'s');
    const exported = new Map();
    for (const f of json.frames) for (const o of f.objects) exported.set(`${f.frame}/${o.id}`, o.segmentation);
    // Every mask the page holds is in the export under its frame and object, byte for byte, and
    // the export holds nothing the page does not (the deleted objects are gone).
    const fresh = await snapshot(page);
    assert(fresh.masks.length > 0, 'the page holds masks');
    for (const m of fresh.masks) {
      const seg = exported.get(`${m.frameIndex}/${m.objectId}`);
      assert(seg && seg.counts === m.counts && seg.size[0] === m.size[0] && seg.size[1] === m.size[1],
        `export has the page's mask of object ${m.objectId} on frame ${m.frameIndex}`);
    }
    const held = new Set(fresh.masks.map((m) => `${m.frameIndex}/${m.objectId}`));
    for (const key of exported.keys()) assert(held.has(key), `export's mask ${key} (frame/object) is one the page holds`);
    const ids = new Set(fresh.objects.map((o) => o.id));
    for (const id of json.objects) assert(ids.has(id), `exported object ${id} is on the page`);
  });

  await steps.run('export-zip-overlay', page, async () => {
    for (const [name, magic, at] of [['Masks (indexed PNG zip)', 'PK', 0], ['Overlay video (MP4)', 'ftyp', 4]]) {
      const [download] = await Promise.all([
        page.waitForEvent('download', { timeout: 120_000 }),
        page.getByRole('button', { name }).click(),
      ]);
      const file = join(work, download.suggestedFilename());
      await download.saveAs(file);
      assert(readFileSync(file).subarray(at, at + magic.length).toString('latin1') === magic, `${name} starts with ${magic}`);
    }
  });

  await steps.run('clear-all', page, async () => {
    await goToStep(page, 1);
    await page.getByRole('button', { name: 'Clear all points' }).click();
    await waitFor(page, () => {
      const s = window.__sam2c.snapshot();
      return !s.busy && s.masks.length === 0;
    }, null, 'everything to be cleared');
    const src = await grab(page, '.frame-canvas');
    const out = await grab(page, '.effects-canvas');
    assert(firstDifference(src.data, out.data) < 0, 'the picture is the bare frame');
  });

  // --- a phone: 375 x 812, touch ---------------------------------------------------------------------
  const phone = await launchBrowser(env.chromium, { viewport: { width: 375, height: 812 }, hasTouch: true, isMobile: true, deviceScaleFactor: 2 });
  const foreignP = foreignRequests(phone.context, [serverA]);
  const pageP = await phone.context.newPage();
  const consoleP = watchConsole(pageP, 'phone');

  await steps.run('phone-layout', pageP, async () => {
    await pageP.goto(`${serverA.url}/#/video/${encodeURIComponent('gallery/00_clip.mp4')}`);
    await waitFor(pageP, () => window.__sam2c.snapshot()?.phase === 'ready', null, 'the video on the phone');
    const layout = await pageP.evaluate(() => {
      const r = (sel) => document.querySelector(sel).getBoundingClientRect();
      return {
        scrollWidth: document.documentElement.scrollWidth,
        stage: r('.stage'),
        sidebar: r('.sidebar'),
        track: r('.step-panel:not([hidden]) button.primary'),
        small: [...document.querySelectorAll('.editor button')].filter((b) => b.offsetParent && b.getBoundingClientRect().height < 40)
          .map((b) => b.textContent.trim()),
      };
    });
    assert(layout.scrollWidth <= 375, `nothing wider than the screen (${layout.scrollWidth} px)`);
    assert(layout.stage.width >= 340 && layout.stage.right <= 375, `the picture fills the width (${layout.stage.width} px)`);
    assert(layout.sidebar.top >= layout.stage.bottom - 1, 'the panel is under the picture');
    assert(layout.small.length === 0, `touch targets are at least 40 px tall (${layout.small.join(', ')})`);
  });

  await steps.run('phone-touch', pageP, async () => {
    const box = await pageP.locator('.stage').boundingBox();
    await pageP.touchscreen.tap(box.x + box.width * 0.52, box.y + box.height * 0.35);
    await waitFor(pageP, () => window.__sam2c.snapshot().masks.some((m) => m.frameIndex === 0 && m.objectId === 1) && !window.__sam2c.snapshot().busy,
      null, 'a mask from a tap');
    let s = await snapshot(pageP);
    assert(s.objects[0].points[0].points.length === 1, 'a tap adds a point');
    await expectFillExact(pageP, 'phone, after a tap');
    // The − tool, then a tap: a negative point.
    await pageP.getByRole('button', { name: '− Exclude' }).tap();
    await pageP.touchscreen.tap(box.x + box.width * 0.1, box.y + box.height * 0.9);
    await waitFor(pageP, () => window.__sam2c.snapshot().objects[0].points[0]?.points.length === 2 && !window.__sam2c.snapshot().busy,
      null, 'the negative tap');
    s = await snapshot(pageP);
    assert(s.objects[0].points[0].points[1].label === 0, 'with the − tool, a tap adds a negative point');
    // A tap on a point removes it.
    await pageP.touchscreen.tap(box.x + box.width * 0.1, box.y + box.height * 0.9);
    await waitFor(pageP, () => window.__sam2c.snapshot().objects[0].points[0]?.points.length === 1 && !window.__sam2c.snapshot().busy,
      null, 'the tapped point to go');
    // A touch drag draws a box (touch events through CDP: Playwright has no touch drag).
    await pageP.getByRole('button', { name: '+ Add object' }).tap();
    const cdp = await pageP.context().newCDPSession(pageP);
    const at = (fx, fy) => [{ x: box.x + fx * box.width, y: box.y + fy * box.height }];
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: at(0.2, 0.2) });
    for (let i = 1; i <= 6; i++) await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: at(0.2 + i * 0.05, 0.2 + i * 0.06) });
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
    await waitFor(pageP, () => {
      const s = window.__sam2c.snapshot();
      return !s.busy && s.objects[1]?.boxes.length === 1 && s.masks.some((m) => m.objectId === 2);
    }, null, 'a box from a touch drag');
    await shot(pageP, 'phone-box');
  });

  await steps.run('phone-steps', pageP, async () => {
    await pageP.locator('button.step[data-step="3"]').tap();
    await waitFor(pageP, () => window.__sam2c.snapshot().step === 3, null, 'step 3 on the phone');
    const w = await pageP.evaluate(() => document.documentElement.scrollWidth);
    assert(w <= 375, `step 3 fits the screen (${w} px)`);
    await pageP.getByLabel('Effect of Object 1').selectOption('outline');
    await settle(pageP);
    const out = await grab(pageP, '.effects-canvas');
    const ref = await reference(pageP);
    assert(firstDifference(out.data, ref) < 0, 'effects drawn on the phone as the CPU renderer draws them');
    assert(consoleP.errors.length === 0, consoleP.errors.join('\n'));
  });
  await phone.close();

  // --- server B: empty gallery, upload, expiry, failures -----------------------------------------
  const pageB = await browser.context.newPage();
  const consoleB = watchConsole(pageB, 'second server');

  await steps.run('loading-state', pageB, async () => {
    let release;
    const gate = new Promise((r) => (release = r));
    // Hold the gallery query until the loading state has been seen.
    await pageB.route('**/graphql', async (route) => {
      await gate;
      await route.fallback();
    });
    await pageB.goto(serverB.url + '/');
    await pageB.getByText('Loading the gallery…').waitFor({ timeout: 10_000 });
    await shot(pageB, 'loading-state-shown');
    release();
  });

  await steps.run('empty-gallery', pageB, async () => {
    await pageB.getByText('The gallery is empty').waitFor({ timeout: 10_000 });
    assert(await pageB.locator('.card').count() === 0, 'no cards');
  });

  await steps.run('upload-error-verbatim', pageB, async () => {
    const form = new FormData();
    const ops = { query: 'mutation($file: Upload!) { uploadVideo(file: $file) { id } }', variables: { file: null } };
    form.append('operations', JSON.stringify(ops));
    form.append('map', JSON.stringify({ file: ['variables.file'] }));
    form.append('file', new Blob(['this is not a video']), 'notes.mp4');
    const direct = await (await fetch(`${serverB.url}/graphql`, { method: 'POST', body: form })).json();
    const message = direct.errors?.[0]?.message;
    assert(message, `the server refuses a non-video upload (${JSON.stringify(direct)})`);
    await dropFile(pageB, Buffer.from('this is not a video'), 'notes.mp4', 'video/mp4');
    await waitFor(pageB, () => document.querySelector('.upload-text')?.dataset.kind === 'error', null, 'the upload error');
    const shown = await pageB.locator('.upload-text').textContent();
    assert(shown === `Upload failed: ${message}`, `the server's message verbatim: "${shown}" vs "${message}"`);
  });

  await steps.run('upload-keeps-title', pageB, async () => {
    await pageB.evaluate(() => {
      window.__progress = [];
      const bar = document.querySelector('.dropzone progress');
      new MutationObserver(() => window.__progress.push(bar.hasAttribute('value') ? bar.value : 'indeterminate'))
        .observe(bar, { attributes: true });
    });
    await dropFile(pageB, readFileSync(uploadClip), 'dog_upload.mp4', 'video/mp4');
    await waitFor(pageB, () => window.__sam2c.snapshot()?.phase === 'ready', null, 'the uploaded video to open', 60_000);
    const progress = await pageB.evaluate(() => window.__progress);
    assert(progress.some((v) => typeof v === 'number' && v > 0), `the progress bar moved (${JSON.stringify(progress)})`);
    const s = await snapshot(pageB);
    assert(s.frameCount >= 17 && s.frameCount <= 24, `the upload has its frames (${s.frameCount})`);
    // Its name, not its hash.
    assert(/^#\/video\/uploads%2F[0-9a-f]{64}\.mp4$/.test(new URL(pageB.url()).hash), `stored under its hash (${pageB.url()})`);
    assert(await pageB.locator('.title-video').textContent() === 'dog_upload.mp4', 'the header names the upload by its file name');
    assert(s.title === 'dog_upload.mp4', `the editor's title (${s.title})`);
    // A reload asks the server (Query.video): the name is still there.
    await pageB.reload();
    await waitFor(pageB, () => window.__sam2c.snapshot()?.phase === 'ready', null, 'the reloaded upload', 60_000);
    assert(await pageB.locator('.title-video').textContent() === 'dog_upload.mp4', 'after a reload, the same name');
    assert((await pageB.title()).startsWith('dog_upload.mp4'), `the window title (${await pageB.title()})`);
    await clickStage(pageB, 0.5, 0.5);
    await waitFor(pageB, () => window.__sam2c.snapshot().masks.length > 0 && !window.__sam2c.snapshot().busy, null, 'a mask on the upload');
    await expectFillExact(pageB, 'upload');
  });

  await steps.run('session-expired-effects-kept', pageB, async () => {
    // An effect chosen before the session expires is kept through the restart.
    await goToStep(pageB, 3);
    await setEffect(pageB, 'Object 1', 'glow', 1);
    await setBackground(pageB, 'dim', 1);
    await pageB.waitForTimeout(5000); // SESSION_TTL is 3 s on this server
    await goToStep(pageB, 1);
    await clickStage(pageB, 0.3, 0.3);
    await pageB.getByText('The session on the server has expired').waitFor({ timeout: 15_000 });
    await shot(pageB, 'session-expired-banner');
    await pageB.getByRole('button', { name: 'Restart session' }).click();
    await waitFor(pageB, () => {
      const s = window.__sam2c.snapshot();
      return s.phase === 'ready' && s.masks.length > 0 && !s.busy;
    }, null, 'the restarted session with the points replayed');
    const s = await snapshot(pageB);
    assert(s.objects[0].effect.effect === 'glow' && s.objects[0].effect.variant === 1, 'the object keeps its effect');
    assert(s.background.effect === 'dim' && s.background.variant === 1, 'the background keeps its effect');
    const out = await grab(pageB, '.effects-canvas');
    assert(firstDifference(out.data, await reference(pageB)) < 0, 'and draws them');
  });

  await steps.run('propagation-failed', pageB, async () => {
    await pageB.route('**/propagate_in_video', (route) =>
      route.fulfill({
        status: 200,
        headers: { 'Content-Type': 'multipart/x-savi-stream; boundary=frame' },
        body: '--frame\r\nContent-Type: application/json\r\nContent-Length: 31\r\n\r\n{"frame_index": 0, "results": []}--oops\r\n',
      }),
    );
    await pageB.getByRole('button', { name: 'Track objects' }).click();
    await pageB.getByText(/^Tracking failed:/).waitFor({ timeout: 15_000 });
    assert(await pageB.getByRole('button', { name: 'Try again' }).count() === 1, 'a retry is offered');
    await pageB.unroute('**/propagate_in_video');
  });

  // --- server C: EdgeTAM (issue 14: the page names the model the server loaded) -----------------
  await steps.run('model-edgetam', pageB, async () => {
    const checkpoint = join(env.golden, 'ckpt', 'edgetam.random.f16.pt');
    const config = join(env.golden, 'configs', 'edgetam.yaml');
    assert(existsSync(checkpoint) && existsSync(config), `the golden data has EdgeTAM's checkpoint and config (${checkpoint})`);
    const serverC = await startServer({}, { ...env, checkpoint, config }, dataB);
    ourServers.push(serverC);
    try {
      await pageB.goto(serverC.url + '/');
      await pageB.locator('.model-name').waitFor({ timeout: 10_000 });
      const shown = await pageB.locator('.model-name').textContent();
      assert(shown === 'Model: EdgeTAM', `the header names EdgeTAM: "${shown}"`);
      assert(await pageB.locator('.model-name').getAttribute('data-model') === 'edgetam', 'the badge names the configuration');
      // One name in two places: GET /ready's "model" (for balancers) is Query.modelInfo's name.
      for (const [srv, name, title] of [[serverA, 'sam2.1_hiera_micro', 'SAM 2.1 micro'], [serverC, 'edgetam', 'EdgeTAM']]) {
        const ready = await (await fetch(`${srv.url}/ready`)).json();
        const res = await fetch(`${srv.url}/graphql`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ query: '{ modelInfo { name displayName } }' }),
        });
        const info = (await res.json()).data.modelInfo;
        assert(ready.model === name && info.name === name && info.displayName === title,
          `${srv.url}: /ready says ${ready.model}, modelInfo ${info.name} / ${info.displayName}; want ${name} / ${title}`);
      }
    } finally {
      await serverC.stop();
      writeFileSync(join(env.artifacts, 'server-c.log'), serverC.log());
    }
  });

  await steps.run('server-unreachable', pageB, async () => {
    await serverB.stop();
    consoleB.allow(new RegExp(`ERR_CONNECTION_REFUSED.*127\\.0\\.0\\.1:${serverB.port}/`, 's'));
    await pageB.goto(`${serverA.url}/?api=http://127.0.0.1:${serverB.port}`);
    await pageB.getByText(/cannot be reached/).waitFor({ timeout: 15_000 });
    assert(await pageB.getByRole('button', { name: 'Try again' }).count() === 1, 'a retry is offered');
  });

  const errors = [...consoleA.errors, ...consoleB.errors, ...consoleP.errors];
  await steps.run('no-console-errors', null, async () => {
    assert(errors.length === 0, `the page logged errors:\n${errors.join('\n')}`);
  });

  await steps.run('nothing-from-outside', null, async () => {
    const all = [...foreign, ...foreignP];
    assert(all.length === 0, `the page asked for things outside its server:\n${all.join('\n')}`);
  });
} finally {
  await browser.close().catch(() => undefined);
  await serverA.stop();
  await serverB.stop();
  writeFileSync(join(env.artifacts, 'server-a.log'), serverA.log());
  writeFileSync(join(env.artifacts, 'server-b.log'), serverB.log());
  writeFileSync(join(env.artifacts, 'figures.json'), JSON.stringify(figures, null, 2));
}

/** Drops a file on the gallery, as a person dragging it from the desktop would. */
async function dropFile(p, bytes, name, type) {
  const handle = await p.evaluateHandle(
    ([b64, name, type]) => {
      const bin = atob(b64);
      const arr = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) arr[i] = bin.charCodeAt(i);
      const dt = new DataTransfer();
      dt.items.add(new File([arr], name, { type }));
      return dt;
    },
    [Buffer.from(bytes).toString('base64'), name, type],
  );
  await p.dispatchEvent('.dropzone', 'dragover', { dataTransfer: handle });
  await p.dispatchEvent('.dropzone', 'drop', { dataTransfer: handle });
}

const passed = steps.results.filter((r) => r.status === 'passed').length;
const failed = steps.results.length - passed;
console.log(`figures: ${JSON.stringify(figures)}`);
console.log(`browser tests: ${((Date.now() - started) / 1000).toFixed(0)} s; screenshots in ${env.artifacts}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
