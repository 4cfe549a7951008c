// Browser tests of the sam2c page (issue 6): headless Chromium, driven by playwright-core,
// against a real `sam2 serve` with the micro checkpoint. Every step leaves a screenshot in
// artifacts/web/ (SAM2_WEB_ARTIFACTS). Fails on any console error or unhandled rejection in the
// page, except those a step provokes on purpose and names.
//
//   node tests/browser/run.mjs        (make test-web builds everything first)

import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  Steps,
  assert,
  dataFolder,
  decodeRle,
  decodeSmall,
  launchBrowser,
  locate,
  makeClip,
  startServer,
  tempDir,
  watchConsole,
} from './harness.mjs';

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
// micro model), the full videos for the gallery, and a 1-second clip to upload.
const CLIP_FRAMES = 60;
const clip = join(work, '00_clip.mp4');
makeClip(join(env.gallery, '05_default_juggle.mp4'), clip, { frames: CLIP_FRAMES, width: 640, height: 360 });
const uploadClip = join(work, 'dog_upload.mp4');
makeClip(join(env.gallery, '01_dog.mp4'), uploadClip, { frames: 24, width: 480, height: 270, start: 2 });
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

const FILL_ALPHA = [140, 170]; // src/lib/overlay.ts: FILL_ALPHA, FILL_ALPHA_SELECTED
const CUTOUT_SHADE = 225;

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

/** Pixel statistics of the mask canvas, per object colour (with the page state, if asked). */
function maskStats(page, colors, withState = false) {
  return page.evaluate(
    ([colors, fill, shade, withState]) => {
      const c = document.querySelector('.mask-canvas');
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      const near = (i, col) =>
        Math.abs(d[i] - col[0]) <= 4 && Math.abs(d[i + 1] - col[1]) <= 4 && Math.abs(d[i + 2] - col[2]) <= 4;
      const out = colors.map(() => ({ fill: 0, opaque: 0 }));
      let veil = 0;
      let clear = 0;
      for (let i = 0; i < d.length; i += 4) {
        const a = d[i + 3];
        if (a === 0) clear++;
        if (a === shade && d[i] < 5 && d[i + 1] < 5 && d[i + 2] < 5) veil++;
        colors.forEach((col, k) => {
          if (!near(i, col)) return;
          if (fill.includes(a) || fill.some((f) => Math.abs(a - f) <= 1)) out[k].fill++;
          else if (a === 255) out[k].opaque++;
        });
      }
      const stats = { width: c.width, height: c.height, perObject: out, veil, clear };
      return withState ? [window.__sam2c.snapshot(), stats] : stats;
    },
    [colors, FILL_ALPHA, CUTOUT_SHADE, withState],
  );
}

/**
 * Checks the canvas shows exactly the masks the page holds for the frame it shows: for each
 * object, as many filled pixels of its colour as its mask has pixels not covered by a later
 * object's mask (objects are painted in list order).
 */
async function expectFrameMasks(page, what) {
  await settle(page);
  // State and pixels from one evaluation, so no frame can be drawn between the two.
  const colors = (await snapshot(page)).objects.map((o) => o.color);
  const [s, stats] = await maskStats(page, colors, true);
  const bits = s.objects.map((o) => {
    const m = s.masks.find((x) => x.frameIndex === s.frame && x.objectId === o.id);
    return m ? decodeRle(m.counts, m.size[0], m.size[1]) : null;
  });
  s.objects.forEach((o, k) => {
    let visible = 0;
    if (bits[k]) {
      for (let i = 0; i < bits[k].length; i++) {
        if (bits[k][i] && !bits.slice(k + 1).some((b) => b && b[i])) visible++;
      }
    }
    const got = stats.perObject[k].fill;
    // Points are drawn opaque over the masks, so a few mask pixels may be hidden by them.
    const pointsHere = s.objects.reduce((n, x) => n + (x.points.find((p) => p.frame === s.frame)?.points.length ?? 0), 0);
    const slack = pointsHere * 400 + 16;
    assert(got <= visible + 16 && got >= visible - slack,
      `${what}: frame ${s.frame}, ${o.name}: ${got} filled pixels on the canvas, expected ${visible}`);
  });
  return { s, stats };
}

/** Clicks the frame at a fraction of its size (opts: Playwright's modifiers, button). */
async function clickStage(page, fx, fy, opts = {}) {
  const stage = page.locator('.stage');
  const box = await stage.boundingBox();
  await stage.click({ position: { x: fx * box.width, y: fy * box.height }, ...opts });
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

/** Waits until no request or seek is pending. */
function settle(page) {
  return waitFor(page, () => {
    const s = window.__sam2c.snapshot();
    return s && !s.busy && !s.seeking;
  }, null, 'the page to settle');
}

/** Moves the scrubber with the keyboard (Home, then ArrowRight) to frame `target`. */
async function seekWithKeyboard(page, target) {
  await settle(page);
  await page.locator('#scrubber').focus();
  await page.keyboard.press('Home');
  for (let i = 0; i < target; i++) await page.keyboard.press('ArrowRight');
  await waitFor(page, (t) => {
    const s = window.__sam2c.snapshot();
    return s.frame === t && !s.seeking;
  }, target, `frame ${target}`);
}

// --- the main flow (server A: gallery) ------------------------------------------------------------

const serverA = await startServer({}, env, dataA);
const serverB = await startServer({}, env, dataB, ['--session-ttl', '3']);
const browser = await launchBrowser(env.chromium);
const page = await browser.context.newPage();
const consoleA = watchConsole(page, 'main');

try {
  await steps.run('gallery', page, async () => {
    await page.goto(serverA.url + '/');
    await page.waitForSelector('.card', { timeout: 20_000 });
    const cards = await page.locator('.card').count();
    assert(cards === 3, `3 gallery cards, got ${cards}`);
    await page.waitForFunction(() => [...document.querySelectorAll('.card img')].every((i) => i.complete && i.naturalWidth > 0));
    const badge = await page.locator('.badge').count();
    assert(badge === 1, 'one video is marked as the default');
  });

  await steps.run('open-video', page, async () => {
    await page.locator('.card[data-path="gallery/00_clip.mp4"]').click();
    await waitFor(page, () => window.__sam2c.snapshot()?.phase === 'ready', null, 'the session to start');
    const s = await snapshot(page);
    assert(s.frameCount === CLIP_FRAMES, `page counts ${s.frameCount} frames, the clip has ${CLIP_FRAMES}`);
    assert(/^[0-9a-f-]{36}$/.test(s.sessionId), 'a session id');
    const { best } = await closestFrame(page);
    assert(best === 0, `the first frame is shown (looks like frame ${best})`);
  });

  await steps.run('first-click-mask', page, async () => {
    await clickStage(page, 0.52, 0.35);
    await waitFor(page, () => window.__sam2c.snapshot().masks.some((m) => m.frameIndex === 0 && m.objectId === 1),
      null, 'the first mask');
    await waitFor(page, () => !window.__sam2c.snapshot().busy, null, 'the request to finish');
    const { stats } = await expectFrameMasks(page, 'first mask');
    assert(stats.perObject[0].fill > 50, `the mask is drawn (${stats.perObject[0].fill} pixels)`);
    assert(stats.perObject[0].opaque > 5, `the point is drawn (${stats.perObject[0].opaque} pixels)`);
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
    assert(await page.locator('.object[data-object="2"] .name').inputValue() === 'ball', 'the list shows the new name');
    const { stats } = await expectFrameMasks(page, 'two objects');
    assert(stats.perObject[0].fill > 0 && stats.perObject[1].fill > 0,
      `both colours are on the canvas (${stats.perObject[0].fill}, ${stats.perObject[1].fill})`);
  });

  let trackedMasks = null;
  await steps.run('track', page, async () => {
    // Track from frame 0 (forward only): every frame must receive masks of both objects.
    await page.getByRole('button', { name: 'Track objects' }).click();
    await waitFor(page, () => window.__sam2c.snapshot().phase === 'tracking', null, 'tracking to start', 10_000);
    await waitFor(page, () => (window.__sam2c.snapshot().tracking?.received ?? 0) >= 3 || window.__sam2c.snapshot().phase === 'ready',
      null, 'the first streamed frames', 60_000);
    await page.screenshot({ path: join(env.artifacts, `${String(steps.n).padStart(2, '0')}-track-streaming.png`) });
    await waitFor(page, () => window.__sam2c.snapshot().phase === 'ready', null, 'tracking to finish', 120_000);
    const stats = await page.locator('.track-stats').textContent();
    assert(stats.startsWith(`Tracked ${CLIP_FRAMES} frames`), `the summary says every frame was tracked: "${stats}"`);
    const s = await snapshot(page);
    for (let f = 0; f < CLIP_FRAMES; f++) {
      for (const id of [1, 2]) {
        assert(s.masks.some((m) => m.frameIndex === f && m.objectId === id), `frame ${f} has a mask for object ${id}`);
      }
    }
    trackedMasks = s.masks;
    await expectFrameMasks(page, 'after tracking');
  });

  await steps.run('cancel-second-run', page, async () => {
    await seekWithKeyboard(page, 0);
    // Press Cancel as soon as the first frame is shown (from inside the page: the micro model
    // tracks this clip in about two seconds, too fast to wait for a round trip).
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
      return !s.busy && (s.objects[1].points.find((p) => p.frame === 3)?.points.length ?? 0) === 1;
    }, null, 'a click after cancelling', 20_000);
  });

  await steps.run('seek-frame-accurate', page, async () => {
    for (const target of [17, 9, 23]) {
      await seekWithKeyboard(page, target);
      await waitFor(page, () => !window.__sam2c.snapshot().busy, null, 'idle');
      const { best, scores } = await closestFrame(page);
      assert(best === target, `frame ${target} shown (the canvas looks like frame ${best}; scores ${scores.map((x) => x.toFixed(1)).join(' ')})`);
      const label = await page.locator('.frame-label').getAttribute('data-frame');
      assert(Number(label) === target, `the label names frame ${target}`);
      await expectFrameMasks(page, `seek to ${target}`);
    }
  });

  await steps.run('overlay-outlined', page, async () => {
    await page.getByLabel('Outlined').check();
    const s = await snapshot(page);
    const stats = await maskStats(page, s.objects.map((o) => o.color));
    assert(stats.perObject.every((o) => o.fill === 0), 'no filled pixels when outlined');
    assert(stats.perObject.some((o) => o.opaque > 50), 'outlines are drawn');
  });

  await steps.run('overlay-cutout', page, async () => {
    await page.getByLabel('Cut-out').check();
    const stats = await maskStats(page, []);
    const total = stats.width * stats.height;
    assert(stats.veil > total * 0.05, `the background is veiled (${stats.veil} of ${total})`);
    assert(stats.clear > 50, 'the objects are cut out');
  });

  await steps.run('playback', page, async () => {
    await page.getByLabel('Filled').check();
    await seekWithKeyboard(page, 0);
    await page.getByRole('button', { name: 'Play' }).click();
    await waitFor(page, () => window.__sam2c.snapshot().frame >= 5, null, 'playback to advance', 15_000);
    await page.getByRole('button', { name: 'Pause' }).click();
    await waitFor(page, () => !window.__sam2c.snapshot().playing, null, 'pause');
    await settle(page); // the pause snaps to the exact frame
    const s = await snapshot(page);
    const { best } = await closestFrame(page);
    assert(best === s.frame, `after pausing, the canvas shows frame ${s.frame} (looks like ${best})`);
    await expectFrameMasks(page, 'after playback');
  });

  await steps.run('keyboard', page, async () => {
    // Tab order reaches the stage, the transport and the side panel; focus is visible.
    await page.locator('body').focus();
    const reached = new Set();
    for (let i = 0; i < 40; i++) {
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
    for (const want of ['Video frame', 'Play', 'Track objects', 'Add object', 'Masks (COCO RLE JSON)']) {
      assert([...reached].some((t) => t.includes(want)), `Tab reaches "${want}" with a visible focus ring (${[...reached].join(' | ')})`);
    }
    // A point from the keyboard: focus the frame, move the cursor, Enter.
    const before = (await snapshot(page)).objects[1].points.reduce((n, p) => n + p.points.length, 0);
    await page.locator('.stage').focus();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await waitFor(page, (b) => {
      const s = window.__sam2c.snapshot();
      return !s.busy && s.objects[1].points.reduce((n, p) => n + p.points.length, 0) === b + 1;
    }, before, 'a keyboard point');
  });

  await steps.run('clear-frame', page, async () => {
    const s0 = await snapshot(page);
    const frame = s0.frame;
    await page.getByRole('button', { name: 'Clear points on this frame' }).click();
    await waitFor(page, (f) => {
      const s = window.__sam2c.snapshot();
      return !s.busy && s.objects.every((o) => (o.points.find((p) => p.frame === f)?.points.length ?? 0) === 0);
    }, frame, 'the frame to be cleared');
    await expectFrameMasks(page, 'after clearing the frame');
  });

  await steps.run('remove-object', page, async () => {
    const ball = (await snapshot(page)).objects[1];
    await page.getByRole('button', { name: 'Remove ball' }).click();
    await waitFor(page, () => {
      const s = window.__sam2c.snapshot();
      return !s.busy && s.objects.length === 1 && !s.masks.some((m) => m.objectId === 2);
    }, null, 'the object to be removed');
    assert(await page.locator('.object').count() === 1, 'the side list has one object');
    const stats = await maskStats(page, [ball.color]);
    assert(stats.perObject[0].fill === 0 && stats.perObject[0].opaque === 0, 'nothing of the removed object is drawn');
    await expectFrameMasks(page, 'after removing');
  });

  await steps.run('export-json', page, async () => {
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
    // The file the page saved is what the server exports.
    const direct = await fetch(`${serverA.url}/export/${s.sessionId}/masks.json`);
    assert(direct.status === 200, `GET /export/<session>/masks.json: HTTP ${direct.status}`);
    assert(JSON.stringify(await direct.json()) === JSON.stringify(json), 'the saved masks.json is the server\'s');
    // Every mask the page holds is in the export under its frame and object, byte for byte, and
    // the export holds nothing the page does not (the removed object is gone).
    const exported = new Map();
    for (const f of json.frames) for (const o of f.objects) exported.set(`${f.frame}/${o.id}`, o.segmentation);
    const fresh = await snapshot(page);
    assert(fresh.masks.length > 0, 'the page holds masks');
    for (const m of fresh.masks) {
      const seg = exported.get(`${m.frameIndex}/${m.objectId}`);
      assert(seg, `export has the mask of object ${m.objectId} on frame ${m.frameIndex}`);
      assert(seg.counts === m.counts && seg.size[0] === m.size[0] && seg.size[1] === m.size[1],
        `export's mask of object ${m.objectId} on frame ${m.frameIndex} is the page's`);
    }
    const held = new Set(fresh.masks.map((m) => `${m.frameIndex}/${m.objectId}`));
    for (const key of exported.keys()) assert(held.has(key), `export's mask ${key} (frame/object) is one the page holds`);
    const ids = new Set(fresh.objects.map((o) => o.id));
    for (const id of json.objects) assert(ids.has(id), `exported object ${id} is on the page`);
  });

  await steps.run('export-zip-video', page, async () => {
    for (const [name, magic, at] of [['Masks (indexed PNG zip)', 'PK', 0], ['Overlay video (MP4)', 'ftyp', 4]]) {
      const [download] = await Promise.all([
        page.waitForEvent('download', { timeout: 120_000 }),
        page.getByRole('button', { name }).click(),
      ]);
      const file = join(work, download.suggestedFilename());
      await download.saveAs(file);
      const head = readFileSync(file).subarray(at, at + magic.length).toString('latin1');
      assert(head === magic, `${name} starts with ${magic}`);
    }
  });

  await steps.run('clear-all', page, async () => {
    await page.getByRole('button', { name: 'Clear all points' }).click();
    await waitFor(page, () => {
      const s = window.__sam2c.snapshot();
      return !s.busy && s.masks.length === 0;
    }, null, 'everything to be cleared');
    const stats = await maskStats(page, []);
    assert(stats.clear === stats.width * stats.height, 'the mask canvas is empty');
  });

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
    await pageB.screenshot({ path: join(env.artifacts, `${String(steps.n).padStart(2, '0')}-loading-state-shown.png`) });
    release();
  });

  await steps.run('empty-gallery', pageB, async () => {
    await pageB.getByText('The gallery is empty').waitFor({ timeout: 10_000 });
    assert(await pageB.locator('.card').count() === 0, 'no cards');
  });

  await steps.run('upload-error-verbatim', pageB, async () => {
    // What the server answers for a file that is not a video, asked directly...
    const form = new FormData();
    const ops = { query: 'mutation($file: Upload!) { uploadVideo(file: $file) { id } }', variables: { file: null } };
    form.append('operations', JSON.stringify(ops));
    form.append('map', JSON.stringify({ file: ['variables.file'] }));
    form.append('file', new Blob(['this is not a video']), 'notes.mp4');
    const direct = await (await fetch(`${serverB.url}/graphql`, { method: 'POST', body: form })).json();
    const message = direct.errors?.[0]?.message;
    assert(message, `the server refuses a non-video upload (${JSON.stringify(direct)})`);
    // ...and what the page shows for the same file, dropped on it.
    await dropFile(pageB, Buffer.from('this is not a video'), 'notes.mp4', 'video/mp4');
    await waitFor(pageB, () => document.querySelector('.upload-text')?.dataset.kind === 'error', null, 'the upload error');
    const shown = await pageB.locator('.upload-text').textContent();
    assert(shown === `Upload failed: ${message}`, `the server's message verbatim: "${shown}" vs "${message}"`);
  });

  await steps.run('upload-and-segment', pageB, async () => {
    await pageB.evaluate(() => {
      // Record every progress value the bar takes.
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
    // 24 frames at 29.97 fps, converted by the server to 24 fps: about 19 frames.
    assert(s.frameCount >= 17 && s.frameCount <= 24, `the upload has its frames (${s.frameCount})`);
    await clickStage(pageB, 0.5, 0.5);
    await waitFor(pageB, () => window.__sam2c.snapshot().masks.length > 0 && !window.__sam2c.snapshot().busy, null, 'a mask on the upload');
    const { stats } = await expectFrameMasks(pageB, 'upload');
    assert(stats.perObject[0].fill + stats.perObject[0].opaque > 0, 'the upload is segmented on the canvas');
  });

  await steps.run('session-expired', pageB, async () => {
    await pageB.waitForTimeout(5000); // SESSION_TTL is 3 s on this server
    await clickStage(pageB, 0.3, 0.3);
    await pageB.getByText('The session on the server has expired').waitFor({ timeout: 15_000 });
    await pageB.screenshot({ path: join(env.artifacts, `${String(steps.n).padStart(2, '0')}-session-expired-banner.png`) });
    await pageB.getByRole('button', { name: 'Restart session' }).click();
    await waitFor(pageB, () => {
      const s = window.__sam2c.snapshot();
      return s.phase === 'ready' && s.masks.length > 0 && !s.busy;
    }, null, 'the restarted session with the points replayed');
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

  await steps.run('server-unreachable', pageB, async () => {
    await serverB.stop();
    consoleB.allow(new RegExp(`ERR_CONNECTION_REFUSED.*127\\.0\\.0\\.1:${serverB.port}/`, 's'));
    await pageB.goto(`${serverA.url}/?api=http://127.0.0.1:${serverB.port}`);
    await pageB.getByText(/cannot be reached/).waitFor({ timeout: 15_000 });
    assert(await pageB.getByRole('button', { name: 'Try again' }).count() === 1, 'a retry is offered');
  });

  const errors = [...consoleA.errors, ...consoleB.errors];
  await steps.run('no-console-errors', null, async () => {
    assert(errors.length === 0, `the page logged errors:\n${errors.join('\n')}`);
  });
} finally {
  await browser.close().catch(() => undefined);
  await serverA.stop();
  await serverB.stop();
  writeFileSync(join(env.artifacts, 'server-a.log'), serverA.log());
  writeFileSync(join(env.artifacts, 'server-b.log'), serverB.log());
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
console.log(`browser tests: ${((Date.now() - started) / 1000).toFixed(0)} s; screenshots in ${env.artifacts}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
