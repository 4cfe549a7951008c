// Object colours: hues spaced by the golden angle, so any number of objects get distinct
// colours and neighbours in the list never look alike.

export type Rgb = readonly [number, number, number];

function hslToRgb(h: number, s: number, l: number): Rgb {
  const a = s * Math.min(l, 1 - l);
  const f = (n: number) => {
    const k = (n + h / 30) % 12;
    return Math.round(255 * (l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1))));
  };
  return [f(0), f(8), f(4)];
}

/** Colour of the n-th object (n >= 0). */
export function objectColor(n: number): Rgb {
  const hue = (20 + n * 137.508) % 360;
  const light = n % 2 === 0 ? 0.55 : 0.62;
  return hslToRgb(hue, 0.85, light);
}

export function cssColor(c: Rgb, alpha = 1): string {
  return alpha >= 1 ? `rgb(${c[0]}, ${c[1]}, ${c[2]})` : `rgba(${c[0]}, ${c[1]}, ${c[2]}, ${alpha})`;
}
