// Plumbing for the browser tests: locating the binary and the reference data, making test
// videos, starting `sam2 serve`, launching Debian's Chromium through playwright-core, a step
// runner that takes a screenshot after every step, and an RLE decoder of its own (so pixel
// checks do not trust the page's decoder).

import { spawn, execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const webDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const repoDir = resolve(webDir, '..');

export function skip(reason) {
  console.log(`SKIP: ${reason}`);
  process.exit(77);
}

/** Everything the suite needs from the machine, or a SKIP naming what is missing. */
export function locate() {
  const golden = process.env.SAM2_GOLDEN ?? resolve(repoDir, '..', 'shared', 'golden');
  const data = process.env.SAM2_DATA ?? resolve(repoDir, '..', 'shared', 'data');
  const checkpoint = join(golden, 'micro', 'sam2.1_hiera_micro.pt');
  const config = join(golden, 'micro', 'sam2.1_hiera_micro.yaml');
  const gallery = join(data, 'gallery');
  const bin = process.env.SAM2_BIN ?? resolve(repoDir, 'build', 'bin', 'sam2');
  const chromium = process.env.CHROMIUM ?? '/usr/bin/chromium';
  const dist = resolve(webDir, 'dist', 'index.html');
  if (!existsSync(checkpoint)) skip(`micro checkpoint not found at ${checkpoint} (set SAM2_GOLDEN)`);
  if (!existsSync(join(gallery, '05_default_juggle.mp4'))) skip(`gallery videos not found in ${gallery} (set SAM2_DATA)`);
  if (!existsSync(chromium)) skip(`Chromium not found at ${chromium} (SAM2_SETUP_WEB=1 scripts/setup.sh installs it)`);
  try {
    execFileSync('ffmpeg', ['-version'], { stdio: 'pipe' });
  } catch {
    skip('ffmpeg not found (scripts/setup.sh installs it)');
  }
  if (!existsSync(bin)) throw new Error(`${bin} does not exist: build first (make)`);
  if (!existsSync(dist)) throw new Error(`${dist} does not exist: build the page first (make web)`);
  const artifacts = process.env.SAM2_WEB_ARTIFACTS ?? resolve(repoDir, 'artifacts', 'web');
  return { golden, data, checkpoint, config, gallery, bin, chromium, artifacts };
}

/** A short H.264 clip (with B-frames, so the MP4 has composition offsets and an edit list). */
export function makeClip(source, out, { frames, width, height, start = 0 }) {
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-ss', String(start), '-i', source, '-frames:v', String(frames),
    '-vf', `scale=${width}:${height}`, '-an', '-c:v', 'libx264', '-preset', 'veryfast', '-bf', '2',
    '-pix_fmt', 'yuv420p', '-movflags', '+faststart', out]);
}

/** Frames of a video as small RGB images, decoded by ffmpeg (libav, like the server). */
export function decodeSmall(path, width, height) {
  const raw = execFileSync('ffmpeg', ['-v', 'error', '-i', path, '-vf', `scale=${width}:${height}:flags=area`,
    '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { maxBuffer: 1 << 28 });
  const size = width * height * 3;
  const frames = [];
  for (let at = 0; at + size <= raw.length; at += size) frames.push(raw.subarray(at, at + size));
  return frames;
}

/** Every frame of a video at its own size, as rgb24 buffers (ffmpeg's decode). */
export function decodeFull(path) {
  const probe = execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height',
    '-of', 'csv=p=0', path], { encoding: 'utf8' }).trim().split(',').map(Number);
  const [width, height] = probe;
  const raw = execFileSync('ffmpeg', ['-v', 'error', '-i', path, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { maxBuffer: 1 << 30 });
  const size = width * height * 3;
  const frames = [];
  for (let at = 0; at + size <= raw.length; at += size) frames.push(raw.subarray(at, at + size));
  return { width, height, frames };
}

export function tempDir(prefix) {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A DATA_PATH folder with the given files copied into gallery/. */
export function dataFolder(files) {
  const dir = tempDir('sam2-web-data-');
  mkdirSync(join(dir, 'gallery'));
  for (const [src, name] of files) copyFileSync(src, join(dir, 'gallery', name));
  return dir;
}

/** Starts `sam2 serve` on a free port; resolves when it listens. */
export function startServer(env, { bin, checkpoint, config }, dataPath, extraArgs = []) {
  const args = ['serve', '--host', '127.0.0.1', '--port', '0', '--checkpoint', checkpoint, '--config', config,
    '--data', dataPath, '--threads', '2', ...extraArgs];
  const child = spawn(bin, args, {
    env: { ...process.env, SAM2_WEB_DIR: resolve(webDir, 'dist'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  // Never leave a server behind, whatever ends this process.
  process.on('exit', () => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`sam2 serve did not start in 60 s:\n${log}`));
    }, 60_000);
    const onData = (chunk) => {
      log += chunk.toString();
      const m = /listening on http:\/\/[^:\s]+:(\d+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolvePromise({
          url: `http://127.0.0.1:${m[1]}`,
          port: Number(m[1]),
          log: () => log,
          stop: () => stopProcess(child),
        });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`sam2 serve exited with ${code}:\n${log}`));
    });
  });
}

function stopProcess(child) {
  return new Promise((res) => {
    if (child.exitCode !== null) return res();
    child.removeAllListeners('exit');
    child.on('exit', () => res());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 5000).unref();
  });
}

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--autoplay-policy=no-user-gesture-required'];

/** Chromium, headless, with the flags that keep it off the network, in a fresh profile. WebGL2
 *  runs on SwiftShader (the CPU), as on a machine without a GPU. */
export async function launchBrowser(chromiumPath, options = {}) {
  const { chromium } = await import('playwright-core');
  const profile = tempDir('sam2-web-chromium-');
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    acceptDownloads: true,
    viewport: { width: 1280, height: 720 },
    args: CHROMIUM_ARGS,
    ...options,
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Watches a page for console errors and unhandled rejections. `allow(pattern)` accepts errors
 * matching it from then on (for steps that provoke them on purpose, e.g. a dead server).
 */
export function watchConsole(page, name) {
  const errors = [];
  const allowed = [];
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const text = `${msg.text()} ${msg.location()?.url ?? ''}`.trim();
    const i = allowed.findIndex((re) => re.test(text));
    if (i >= 0) return;
    errors.push(`[${name}] console.error: ${text}`);
  });
  page.on('pageerror', (err) => errors.push(`[${name}] uncaught: ${err.message}`));
  return {
    errors,
    allow: (re) => allowed.push(re),
  };
}

// --- steps ---------------------------------------------------------------------------------------

export class Steps {
  constructor(artifacts) {
    this.artifacts = artifacts;
    this.results = [];
    this.n = 0;
    this.failed = false;
    mkdirSync(artifacts, { recursive: true });
  }

  /** Runs a step unless an earlier one failed; screenshots `page` after it either way. */
  async run(name, page, fn) {
    const label = `${String(++this.n).padStart(2, '0')}-${name}`;
    if (this.failed) {
      this.results.push({ label, status: 'not run' });
      console.log(`-- ${label}: not run (an earlier step failed)`);
      return;
    }
    const t0 = Date.now();
    try {
      await fn();
      this.results.push({ label, status: 'passed', ms: Date.now() - t0 });
      console.log(`ok ${label} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    } catch (e) {
      this.failed = true;
      this.results.push({ label, status: 'failed', error: e });
      console.log(`FAIL ${label}: ${e && e.stack ? e.stack : e}`);
    }
    if (page && !page.isClosed()) {
      await page.screenshot({ path: join(this.artifacts, `${label}.png`) }).catch(() => undefined);
    }
  }
}

export function assert(cond, message) {
  if (!cond) throw new Error(`assertion failed: ${message}`);
}

// --- masks -----------------------------------------------------------------------------------------

/** COCO compressed RLE counts -> row-major 0/1 mask (independent of the page's decoder). */
export function decodeRle(counts, h, w) {
  const runs = [];
  let p = 0;
  while (p < counts.length) {
    let x = 0;
    let k = 0;
    let more = true;
    while (more) {
      const c = counts.charCodeAt(p++) - 48;
      x |= (c & 0x1f) << (5 * k);
      more = (c & 0x20) !== 0;
      k++;
      if (!more && c & 0x10) x |= -1 << (5 * k);
    }
    if (runs.length > 2) x += runs[runs.length - 2];
    runs.push(x);
  }
  const out = new Uint8Array(h * w);
  let pos = 0;
  runs.forEach((r, i) => {
    if (i % 2) for (let j = pos; j < pos + r; j++) out[(j % h) * w + Math.floor(j / h)] = 1;
    pos += r;
  });
  if (pos !== h * w) throw new Error(`RLE covers ${pos} pixels, not ${h * w}`);
  return out;
}
