// The WebGL2 effects renderer: docs/effects.md on the GPU, in the same integer arithmetic as the
// CPU renderer (effects.ts) and the server's (src/app/effects.c). Every texture is RGBA8 (labels
// R8) read with texelFetch and turned back into integers 0..255, every pass writes integers / 255
// (stored exactly), so the result is the CPU renderer's, byte for byte (tested in the browser).
// Textures hold rows top first: pixel (x, y) of the picture is texel (x, y); the last pass flips
// the picture onto the canvas.

import {
  OBJECT_EFFECTS,
  SPEC,
  backgroundEffect,
  objectEffect,
  spotlights,
  type Scene,
} from './effects';

const MAX_SPOTS = 64;

const VERTEX = `#version 300 es
void main() {
  vec2 p = vec2(float((gl_VertexID << 1) & 2), float(gl_VertexID & 2));
  gl_Position = vec4(p * 2.0 - 1.0, 0.0, 1.0);
}`;

const COMMON = `#version 300 es
precision highp float;
precision highp int;
precision highp sampler2D;
uniform ivec2 uSize;
out vec4 fragColor;
ivec4 fetch(sampler2D t, ivec2 p) { return ivec4(round(texelFetch(t, clamp(p, ivec2(0), uSize - 1), 0) * 255.0)); }
void emit(ivec3 c) { fragColor = vec4(vec3(c) / 255.0, 1.0); }
void emit4(ivec4 c) { fragColor = vec4(c) / 255.0; }
int mix8(int x, int y, int a) { return (x * (255 - a) + y * a + 127) / 255; }
ivec3 mix8(ivec3 x, ivec3 y, int a) { return (x * (255 - a) + y * a + 127) / 255; }
int scale8(int x, int a) { return (x * a + 127) / 255; }
ivec3 scale8(ivec3 x, int a) { return (x * a + 127) / 255; }
int luma8(ivec3 c) { return (77 * c.r + 150 * c.g + 29 * c.b + 128) / 256; }
uniform int uCell;
uniform ivec3 uCheckDark, uCheckLight;
ivec3 checker(ivec2 p) { return ((p.x / uCell + p.y / uCell) % 2 == 0) ? uCheckDark : uCheckLight; }
uniform sampler2D uLabel;
int lab(ivec2 p) { return int(round(texelFetch(uLabel, clamp(p, ivec2(0), uSize - 1), 0).r * 255.0)); }
`;

// One box pass along uDir: (window sum + r) / (2r + 1), all four channels.
const BOX = `${COMMON}
uniform sampler2D uIn;
uniform ivec2 uDir;
uniform int uR;
void main() {
  ivec2 p = ivec2(gl_FragCoord.xy);
  ivec4 sum = ivec4(0);
  for (int j = -uR; j <= uR; j++) sum += fetch(uIn, p + uDir * j);
  emit4((sum + uR) / (2 * uR + 1));
}`;

// What an object's blur starts from: its mask (glow) or the premultiplied frame (smudge erase).
const PREP = `${COMMON}
uniform sampler2D uSrc;
uniform int uK, uMode;
void main() {
  ivec2 p = ivec2(gl_FragCoord.xy);
  bool on = lab(p) == uK;
  if (uMode == 0) {
    int m = on ? 255 : 0;
    emit4(ivec4(m));
  } else {
    int w = on ? 0 : 255;
    emit4(ivec4(scale8(fetch(uSrc, p).rgb, w), w));
  }
}`;

// Erosion and dilation of (label == k) by a square, separably. Horizontal pass: r = the whole
// window is the object, g = some of it is. Vertical pass over those: the same along y.
const MORPH_H = `${COMMON}
uniform int uK, uR;
void main() {
  ivec2 p = ivec2(gl_FragCoord.xy);
  int cnt = 0;
  for (int j = -uR; j <= uR; j++) cnt += lab(p + ivec2(j, 0)) == uK ? 1 : 0;
  emit4(ivec4(cnt == 2 * uR + 1 ? 255 : 0, cnt > 0 ? 255 : 0, 0, 255));
}`;

const MORPH_V = `${COMMON}
uniform sampler2D uIn;
uniform int uR;
void main() {
  ivec2 p = ivec2(gl_FragCoord.xy);
  int all_ = 0, any_ = 0;
  for (int j = -uR; j <= uR; j++) {
    ivec4 v = fetch(uIn, p + ivec2(0, j));
    all_ += v.r == 255 ? 1 : 0;
    any_ += v.g == 255 ? 1 : 0;
  }
  emit4(ivec4(all_ == 2 * uR + 1 ? 255 : 0, any_ > 0 ? 255 : 0, 0, 255));
}`;

// One texel per block: the mean of the frame over the block (cut at the frame's edge).
const BLOCK = `${COMMON}
uniform sampler2D uSrc;
uniform int uBlock;
void main() {
  ivec2 b0 = ivec2(gl_FragCoord.xy) * uBlock;
  ivec2 e = min(b0 + uBlock, uSize);
  ivec3 sum = ivec3(0);
  for (int y = b0.y; y < e.y; y++)
    for (int x = b0.x; x < e.x; x++) sum += fetch(uSrc, ivec2(x, y)).rgb;
  int n = (e.x - b0.x) * (e.y - b0.y);
  emit((sum + n / 2) / n);
}`;

// The background effect and the spotlights, on label-0 pixels.
const BACKGROUND = `${COMMON}
uniform sampler2D uSrc, uAux, uBg;
uniform int uEffect, uAmount, uLevel, uTransparent;
uniform ivec3 uColor;
uniform int uSpots;
uniform ivec4 uSpot[${MAX_SPOTS}];
uniform int uSpotLevel[${MAX_SPOTS}];
int isqrt(int n) {
  int s = int(sqrt(float(n)));
  while (s * s > n) s--;
  while ((s + 1) * (s + 1) <= n) s++;
  return s;
}
void main() {
  ivec2 p = ivec2(gl_FragCoord.xy);
  ivec3 s = fetch(uSrc, p).rgb;
  if (lab(p) != 0) { emit(s); return; }
  ivec3 o = s;
  if (uEffect == 1) o = fetch(uAux, p).rgb;
  else if (uEffect == 2) o = mix8(s, ivec3(luma8(s)), uAmount);
  else if (uEffect == 3) o = scale8(s, uLevel);
  else if (uEffect == 4) o = uTransparent != 0 ? checker(p) : uColor;
  else if (uEffect == 5) o = fetch(uBg, p).rgb;
  if (uSpots > 0) {
    int b = 0;
    for (int k = 0; k < uSpots; k++) {
      ivec4 sp = uSpot[k];
      int dx = 2 * p.x + 1 - sp.x, dy = 2 * p.y + 1 - sp.y;
      int d = isqrt(dx * dx + dy * dy);
      int lv = uSpotLevel[k];
      int bk = d <= sp.z ? 255 : d >= sp.w ? lv : lv + (255 - lv) * (sp.w - d) / (sp.w - sp.z);
      b = max(b, bk);
    }
    o = scale8(o, b);
  }
  emit(o);
}`;

// One object's effect over the picture so far (uCur).
const OBJECT = `${COMMON}
uniform sampler2D uSrc, uCur, uAux, uBlockTex;
uniform int uEffect, uK, uAlpha, uStrength, uTransparent, uMode, uBlock;
uniform ivec3 uColor, uEdge, uFallback;
void main() {
  ivec2 p = ivec2(gl_FragCoord.xy);
  ivec3 o = fetch(uCur, p).rgb;
  ivec3 s = fetch(uSrc, p).rgb;
  int L = lab(p);
  bool on = L == uK;
  if (uEffect == 0 || uEffect == 7) { if (on) o = s; }
  else if (uEffect == 1) { if (on) o = mix8(o, uColor, uAlpha); }
  else if (uEffect == 2) { if (on && fetch(uAux, p).r == 0) o = uColor; }
  else if (uEffect == 3) { if (on) o = s; else if (L == 0 && fetch(uAux, p).g != 0) o = uEdge; }
  else if (uEffect == 4) { if (!on) o = mix8(o, uColor, scale8(fetch(uAux, p).r, uStrength)); }
  else if (uEffect == 5) { if (on) o = ivec3(round(texelFetch(uBlockTex, p / uBlock, 0).rgb * 255.0)); }
  else if (uEffect == 6) {
    if (on) {
      if (uTransparent != 0) o = checker(p);
      else {
        ivec4 a = fetch(uAux, p);
        o = a.a > 0 ? min(ivec3(255), (a.rgb * 255 + a.a / 2) / a.a) : uFallback;
      }
    }
  } else if (uEffect == 8) {
    if (on) {
      if (uMode == 0) o = (ivec3(luma8(s)) * uColor + 127) / 255;
      else if (uMode == 1) o = ivec3(s.b, s.r, s.g);
      else o = 255 - s;
    }
  }
  emit(o);
}`;

const SHOW = `${COMMON}
uniform sampler2D uIn;
void main() {
  ivec2 p = ivec2(gl_FragCoord.xy);
  emit(fetch(uIn, ivec2(p.x, uSize.y - 1 - p.y)).rgb);
}`;

interface Target {
  tex: WebGLTexture;
  fb: WebGLFramebuffer;
  w: number;
  h: number;
}

type Program = { prog: WebGLProgram; loc: Map<string, WebGLUniformLocation | null> };

export class GlEffects {
  private readonly gl: WebGL2RenderingContext;
  private programs = new Map<string, Program>();
  private width = 0;
  private height = 0;
  private src: WebGLTexture | null = null;
  private label: WebGLTexture | null = null;
  private bg: WebGLTexture | null = null;
  private targets: Target[] = [];
  private block: Target | null = null;
  private bgVersion = -1;
  lost = false;

  private constructor(gl: WebGL2RenderingContext) {
    this.gl = gl;
    for (const [name, source] of Object.entries({ BOX, PREP, MORPH_H, MORPH_V, BLOCK, BACKGROUND, OBJECT, SHOW })) {
      this.programs.set(name, this.link(source, name));
    }
  }

  /** A renderer on `canvas`, or null where WebGL2 (or a shader) is not available. */
  static create(canvas: HTMLCanvasElement): GlEffects | null {
    const gl = canvas.getContext('webgl2', {
      alpha: false,
      antialias: false,
      depth: false,
      stencil: false,
      premultipliedAlpha: false,
      preserveDrawingBuffer: true, // the canvas is read back (thumbnails, tests)
    });
    if (!gl) return null;
    try {
      const fx = new GlEffects(gl);
      canvas.addEventListener('webglcontextlost', (e) => {
        e.preventDefault();
        fx.lost = true;
      });
      return fx;
    } catch {
      return null;
    }
  }

  private link(fragment: string, name: string): Program {
    const gl = this.gl;
    const compile = (type: number, text: string) => {
      const s = gl.createShader(type);
      if (!s) throw new Error('WebGL: no shader');
      gl.shaderSource(s, text);
      gl.compileShader(s);
      if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) throw new Error(`WebGL shader ${name}: ${gl.getShaderInfoLog(s)}`);
      return s;
    };
    const prog = gl.createProgram();
    if (!prog) throw new Error('WebGL: no program');
    gl.attachShader(prog, compile(gl.VERTEX_SHADER, VERTEX));
    gl.attachShader(prog, compile(gl.FRAGMENT_SHADER, fragment));
    gl.linkProgram(prog);
    if (!gl.getProgramParameter(prog, gl.LINK_STATUS)) throw new Error(`WebGL program ${name}: ${gl.getProgramInfoLog(prog)}`);
    return { prog, loc: new Map() };
  }

  private texture(w: number, h: number, format: 'rgba' | 'r8'): WebGLTexture {
    const gl = this.gl;
    const t = gl.createTexture();
    if (!t) throw new Error('WebGL: no texture');
    gl.bindTexture(gl.TEXTURE_2D, t);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.NEAREST);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.NEAREST);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
    if (format === 'r8') gl.texImage2D(gl.TEXTURE_2D, 0, gl.R8, w, h, 0, gl.RED, gl.UNSIGNED_BYTE, null);
    else gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, w, h, 0, gl.RGBA, gl.UNSIGNED_BYTE, null);
    return t;
  }

  private target(w: number, h: number): Target {
    const gl = this.gl;
    const tex = this.texture(w, h, 'rgba');
    const fb = gl.createFramebuffer();
    if (!fb) throw new Error('WebGL: no framebuffer');
    gl.bindFramebuffer(gl.FRAMEBUFFER, fb);
    gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, tex, 0);
    return { tex, fb, w, h };
  }

  private free(): void {
    const gl = this.gl;
    for (const t of [...this.targets, ...(this.block ? [this.block] : [])]) {
      gl.deleteTexture(t.tex);
      gl.deleteFramebuffer(t.fb);
    }
    for (const t of [this.src, this.label, this.bg]) if (t) gl.deleteTexture(t);
    this.targets = [];
    this.block = null;
    this.src = this.label = this.bg = null;
  }

  private resize(w: number, h: number): void {
    if (w === this.width && h === this.height) return;
    this.free();
    this.width = w;
    this.height = h;
    this.src = this.texture(w, h, 'rgba');
    this.label = this.texture(w, h, 'r8');
    this.bg = this.texture(w, h, 'rgba');
    this.bgVersion = -1;
    this.targets = [0, 1, 2, 3].map(() => this.target(w, h)); // A, B (picture), X, Y (scratch)
    const canvas = this.gl.canvas as HTMLCanvasElement;
    canvas.width = w;
    canvas.height = h;
  }

  private use(name: string): Program {
    const p = this.programs.get(name);
    if (!p) throw new Error(`no program ${name}`);
    this.gl.useProgram(p.prog);
    return p;
  }

  private loc(p: Program, name: string): WebGLUniformLocation | null {
    if (!p.loc.has(name)) p.loc.set(name, this.gl.getUniformLocation(p.prog, name));
    return p.loc.get(name) ?? null;
  }

  /** Binds textures to units and sets uniforms; ints by default, arrays of 3 as ivec3. */
  private set(p: Program, values: Record<string, number | number[] | WebGLTexture | null>): void {
    const gl = this.gl;
    let unit = 0;
    for (const [name, v] of Object.entries(values)) {
      const l = this.loc(p, name);
      if (v instanceof WebGLTexture || v === null) {
        gl.activeTexture(gl.TEXTURE0 + unit);
        gl.bindTexture(gl.TEXTURE_2D, v);
        if (l) gl.uniform1i(l, unit);
        unit++;
      } else if (Array.isArray(v)) {
        if (v.length === 2) gl.uniform2i(l, v[0], v[1]);
        else gl.uniform3i(l, v[0], v[1], v[2]);
      } else {
        gl.uniform1i(l, v);
      }
    }
  }

  private draw(to: Target | null, w: number, h: number): void {
    const gl = this.gl;
    gl.bindFramebuffer(gl.FRAMEBUFFER, to ? to.fb : null);
    gl.viewport(0, 0, w, h);
    gl.drawArrays(gl.TRIANGLES, 0, 3);
  }

  private common(p: Program): void {
    const c = SPEC.checkerboard;
    this.set(p, { uSize: [this.width, this.height], uCell: c.cell, uCheckDark: c.dark, uCheckLight: c.light });
  }

  /** blur(input, r) into `out` (X/Y scratch pair: the result lands in `out`). */
  private blur(input: WebGLTexture, r: number, out: Target, tmp: Target): void {
    const p = this.use('BOX');
    this.common(p);
    let from = input;
    for (let k = 0; k < 2; k++) {
      this.set(p, { uIn: from, uDir: [1, 0], uR: r });
      this.draw(tmp, this.width, this.height);
      this.set(p, { uIn: tmp.tex, uDir: [0, 1], uR: r });
      this.draw(out, this.width, this.height);
      from = out.tex;
    }
  }

  /**
   * Draws the scene onto the canvas. src: the frame, RGBA top row first; labels from
   * buildLabels; bgImage (RGBA, width x height) for the replace background, with a version
   * that changes when its pixels do.
   */
  render(scene: Scene, src: Uint8Array | Uint8ClampedArray, width: number, height: number, labels: Uint8Array,
    bgImage: { pixels: Uint8Array | Uint8ClampedArray; version: number } | null): void {
    const gl = this.gl;
    this.resize(width, height);
    const [A, B, X, Y] = this.targets;
    gl.pixelStorei(gl.UNPACK_ALIGNMENT, 1);
    gl.pixelStorei(gl.UNPACK_FLIP_Y_WEBGL, false);
    gl.pixelStorei(gl.UNPACK_PREMULTIPLY_ALPHA_WEBGL, false);
    gl.pixelStorei(gl.UNPACK_COLORSPACE_CONVERSION_WEBGL, gl.NONE);
    gl.bindTexture(gl.TEXTURE_2D, this.src);
    gl.texSubImage2D(gl.TEXTURE_2D, 0, 0, 0, width, height, gl.RGBA, gl.UNSIGNED_BYTE, new Uint8Array(src.buffer, src.byteOffset, src.byteLength));
    gl.bindTexture(gl.TEXTURE_2D, this.label);
    gl.texSubImage2D(gl.TEXTURE_2D, 0, 0, 0, width, height, gl.RED, gl.UNSIGNED_BYTE, labels);
    if (bgImage && bgImage.version !== this.bgVersion) {
      gl.bindTexture(gl.TEXTURE_2D, this.bg);
      gl.texSubImage2D(gl.TEXTURE_2D, 0, 0, 0, width, height, gl.RGBA, gl.UNSIGNED_BYTE,
        new Uint8Array(bgImage.pixels.buffer, bgImage.pixels.byteOffset, bgImage.pixels.byteLength));
      this.bgVersion = bgImage.version;
    }

    // Background (and spotlights) into A.
    const bgName = scene.background.effect;
    const bgv = backgroundEffect(bgName).variants[scene.background.variant];
    if (bgName === 'replace' && !bgImage) throw new Error('effects: the replace background needs an image');
    if (bgName === 'blur') this.blur(this.src as WebGLTexture, bgv.radius ?? 1, Y, X);
    const spots = spotlights(scene, labels, width, height);
    if (spots.length > MAX_SPOTS) throw new Error(`effects: more than ${MAX_SPOTS} spotlights`);
    let p = this.use('BACKGROUND');
    this.common(p);
    this.set(p, {
      uLabel: this.label,
      uSrc: this.src,
      uAux: Y.tex,
      uBg: this.bg,
      uEffect: ['none', 'blur', 'desaturate', 'dim', 'erase', 'replace'].indexOf(bgName),
      uAmount: bgv.amount ?? 0,
      uLevel: bgv.level ?? 0,
      uTransparent: bgv.transparent ?? 0,
      uColor: bgv.color ?? [0, 0, 0],
      uSpots: spots.length,
    });
    if (spots.length) {
      gl.uniform4iv(this.loc(p, 'uSpot'), spots.flatMap((s) => [s.cx, s.cy, s.rIn, s.rOut]));
      gl.uniform1iv(this.loc(p, 'uSpotLevel'), spots.map((s) => s.level));
    }
    this.draw(A, width, height);

    // Objects, each from one picture target into the other.
    const present = new Uint8Array(256);
    for (let i = 0; i < labels.length; i++) present[labels[i]] = 1;
    let cur = A;
    let next = B;
    scene.objects.forEach((o, i) => {
      const k = i + 1;
      if (!present[k]) return;
      const v = objectEffect(o.effect).variants[o.variant];
      let blockSize = 1;
      if (o.effect === 'glow' || (o.effect === 'erase' && !v.transparent)) {
        p = this.use('PREP');
        this.common(p);
        this.set(p, { uLabel: this.label, uSrc: this.src, uK: k, uMode: o.effect === 'glow' ? 0 : 1 });
        this.draw(X, width, height);
        this.blur(X.tex, v.radius ?? 1, X, Y);
      } else if (o.effect === 'outline' || o.effect === 'cutout') {
        p = this.use('MORPH_H');
        this.common(p);
        this.set(p, { uLabel: this.label, uK: k, uR: v.width ?? 1 });
        this.draw(Y, width, height);
        p = this.use('MORPH_V');
        this.common(p);
        this.set(p, { uIn: Y.tex, uR: v.width ?? 1 });
        this.draw(X, width, height);
      } else if (o.effect === 'pixelate') {
        blockSize = v.block ?? 1;
        const bw = Math.ceil(width / blockSize);
        const bh = Math.ceil(height / blockSize);
        if (!this.block || this.block.w !== bw || this.block.h !== bh) {
          if (this.block) {
            gl.deleteTexture(this.block.tex);
            gl.deleteFramebuffer(this.block.fb);
          }
          this.block = this.target(bw, bh);
        }
        p = this.use('BLOCK');
        this.common(p);
        this.set(p, { uSrc: this.src, uBlock: blockSize });
        this.draw(this.block, bw, bh);
      }
      p = this.use('OBJECT');
      this.common(p);
      this.set(p, {
        uLabel: this.label,
        uSrc: this.src,
        uCur: cur.tex,
        uAux: X.tex,
        uBlockTex: this.block ? this.block.tex : X.tex,
        uEffect: OBJECT_EFFECTS.findIndex((e) => e.name === o.effect),
        uK: k,
        uAlpha: v.alpha ?? 0,
        uStrength: v.strength ?? 0,
        uTransparent: v.transparent ?? 0,
        uMode: ['tint', 'swap', 'invert'].indexOf(v.mode ?? 'tint'),
        uBlock: blockSize,
        uColor: [...o.color],
        uEdge: v.color ?? [255, 255, 255],
        uFallback: SPEC.erase_fallback,
      });
      this.draw(next, width, height);
      [cur, next] = [next, cur];
    });

    p = this.use('SHOW');
    this.common(p);
    this.set(p, { uLabel: this.label, uIn: cur.tex });
    this.draw(null, width, height);
  }

  destroy(): void {
    this.free();
    for (const p of this.programs.values()) this.gl.deleteProgram(p.prog);
    this.programs.clear();
  }
}
