// Small plotting helpers shared by the edge thumbnails, the inspector and the sparkline:
// ranges, data -> pixel scaling and SVG path strings built in one pass (no per-point DOM).

export const SVG_NS = "http://www.w3.org/2000/svg";

/** Create an SVG element with attributes. */
export function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number> = {},
  parent?: Element,
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  for (const k in attrs) el.setAttribute(k, String(attrs[k]));
  if (parent) parent.appendChild(el);
  return el;
}

/** Create an HTML element with a class and optional text. */
export function html<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  cls = "",
  text = "",
  parent?: Element,
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (cls) el.className = cls;
  if (text) el.textContent = text;
  if (parent) parent.appendChild(el);
  return el;
}

/** A contiguous run of values: `data[start .. start+n)` (one row of an (E, P) array). */
export interface Run {
  data: ArrayLike<number>;
  start: number;
  n: number;
}

export function run(data: ArrayLike<number> | undefined | null, row: number, n: number): Run | null {
  if (!data || n <= 0 || (row + 1) * n > data.length) return null;
  return { data, start: row * n, n };
}

/** [min, max] over finite values of all runs; widened when empty or flat. */
export function extent(runs: (Run | null)[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const r of runs) {
    if (!r) continue;
    for (let k = r.start; k < r.start + r.n; k++) {
      const v = r.data[k];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  if (!(lo <= hi)) return [0, 1];
  if (hi - lo < 1e-12 * Math.max(1, Math.abs(hi))) return [lo - 0.5, hi + 0.5];
  return [lo, hi];
}

/** Maps data to pixels inside a box (y grows upward in data, downward on screen). */
export interface Scale {
  x: [number, number];
  y: [number, number];
  left: number;
  top: number;
  width: number;
  height: number;
  /** When set, paths are written in integer units of 1/q px (draw them under scale(1/q)); much faster to build. */
  q?: number;
}

/** Text as markup (attribute values and text content): `&`, `<`, `>` and `"` escaped, so a
 * user's name or formula stays text when a layer is parsed from one markup string. */
export function escapeMarkup(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/**
 * `v` rounded to one decimal, as `String(Math.round(v * 10) / 10)` writes it ("12.3", "12",
 * "-0.5", "0"), from integers: a diagram of 500 edges writes ~100 000 such numbers, many from
 * code V8 has not optimised yet, where a fractional number costs an allocation and a slow
 * conversion and an integer neither.
 */
export function dec1(v: number): string {
  const r = Math.round(v * 10);
  if (!(r < 1e9 && r > -1e9)) return String(r / 10); // NaN, infinities, huge: the plain way
  const a = r < 0 ? -r : r;
  const q = (a / 10) | 0;
  const d = a - q * 10;
  return (r < 0 ? "-" : "") + (d ? q + "." + d : "" + q);
}

const fmt = dec1;

function writer(s: Scale): (v: number) => number | string {
  const q = s.q;
  return q ? (v) => Math.round(v * q) : fmt;
}

/** Polyline as an SVG path `d`; non-finite points break the line. */
export function linePath(xs: Run | null, ys: Run | null, s: Scale): string {
  if (!xs || !ys) return "";
  const n = Math.min(xs.n, ys.n);
  const kx = s.width / (s.x[1] - s.x[0]);
  const ky = s.height / (s.y[1] - s.y[0]);
  const f = writer(s);
  let d = "";
  let pen = "M";
  for (let k = 0; k < n; k++) {
    const x = xs.data[xs.start + k];
    const y = ys.data[ys.start + k];
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      pen = "M";
      continue;
    }
    d += pen + f(s.left + (x - s.x[0]) * kx) + " " + f(s.top + s.height - (y - s.y[0]) * ky);
    pen = "L";
  }
  return d;
}

/** Scatter as one path of zero-length segments (drawn as dots with round caps). */
export function dotsPath(xs: Run | null, ys: Run | null, s: Scale): string {
  if (!xs || !ys) return "";
  const n = Math.min(xs.n, ys.n);
  const kx = s.width / (s.x[1] - s.x[0]);
  const ky = s.height / (s.y[1] - s.y[0]);
  const f = writer(s);
  let d = "";
  for (let k = 0; k < n; k++) {
    const x = xs.data[xs.start + k];
    const y = ys.data[ys.start + k];
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    const px = s.left + (x - s.x[0]) * kx;
    const py = s.top + s.height - (y - s.y[0]) * ky;
    if (px < s.left - 1 || px > s.left + s.width + 1 || py < s.top - 1 || py > s.top + s.height + 1) continue;
    d += "M" + f(px) + " " + f(py) + "h0";
  }
  return d;
}

/** Compact number for labels: 3 significant digits, exponent when tiny or huge. */
export function num(v: number | null | undefined): string {
  if (v == null || !Number.isFinite(v)) return "–";
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e4)) return v.toExponential(2);
  return Number(v.toPrecision(3)).toString();
}
