// The inspector's large plot of one edge: curve, activation samples, axis ranges, and an
// optional overlay (a hovered symbolic candidate) drawn on the same scale and clipped.
// The left margin follows the y labels' length, so "-0.00596" is never cut off.
import { dotsPath, extent, linePath, num, svg, type Run, type Scale } from "../plot";

const W = 260;
const H = 160;
const BOTTOM = 18;
const CHAR_W = 6.2; // px per character of the 10 px axis labels (digits, sign, dot, e)

/** Left margin that fits the longer of two y labels (`chars` characters each at most). */
export function leftMargin(labels: string[]): number {
  const chars = Math.max(0, ...labels.map((l) => l.length));
  return Math.max(28, Math.ceil(chars * CHAR_W) + 8);
}

export class BigPlot {
  readonly el: SVGSVGElement;
  private bg: SVGRectElement;
  private clip: SVGSVGElement;
  private dots: SVGPathElement;
  private curve: SVGPathElement;
  private overlay: SVGPathElement;
  private labels: SVGTextElement[];
  private scale: Scale | null = null;

  constructor() {
    this.el = svg("svg", { class: "kw-bigplot", viewBox: `0 0 ${W} ${H}`, width: W, height: H });
    this.bg = svg("rect", { class: "kw-bigplot-bg", y: 4 }, this.el);
    // A nested <svg> clips its content to the plot area.
    this.clip = svg("svg", { y: 4 }, this.el);
    this.dots = svg("path", { class: "kw-big-dots" }, this.clip);
    this.curve = svg("path", { class: "kw-big-curve" }, this.clip);
    this.overlay = svg("path", { class: "kw-big-overlay" }, this.clip);
    this.labels = [0, 1, 2, 3].map(() => svg("text", { class: "kw-axis-label" }, this.el));
  }

  /** Draw an edge's curve and samples (scaled to their joint range). */
  draw(cx: Run | null, cy: Run | null, sx: Run | null, sy: Run | null): void {
    const x = extent([cx, sx]);
    const [y0, y1] = extent([cy, sy]);
    const text = [x[0], x[1], y0, y1].map((v) => num(v));
    const left = leftMargin([text[2], text[3]]);
    const pw = W - left - 4;
    const ph = H - BOTTOM - 4;
    for (const el of [this.bg, this.clip]) {
      el.setAttribute("x", String(left));
      el.setAttribute("width", String(pw));
      el.setAttribute("height", String(ph));
    }
    this.clip.setAttribute("viewBox", `0 0 ${pw} ${ph}`);
    const at: [number, number, string][] = [
      [left, H - 4, "start"], // x min
      [W - 4, H - 4, "end"], // x max
      [left - 3, H - BOTTOM, "end"], // y min
      [left - 3, 12, "end"], // y max
    ];
    at.forEach(([px, py, anchor], k) => {
      const l = this.labels[k];
      l.setAttribute("x", String(px));
      l.setAttribute("y", String(py));
      l.setAttribute("text-anchor", anchor);
      l.textContent = text[k];
    });
    const pad = 0.06 * (y1 - y0);
    const s = { x, y: [y0 - pad, y1 + pad] as [number, number], left: 0, top: 0, width: pw, height: ph - 4 };
    this.scale = s;
    this.curve.setAttribute("d", linePath(cx, cy, s));
    this.dots.setAttribute("d", dotsPath(sx, sy, s));
  }

  /** Overlay another curve (e.g. a symbolic candidate) or clear it with nulls. */
  setOverlay(xs: Run | null, ys: Run | null): void {
    this.overlay.setAttribute("d", this.scale && xs && ys ? linePath(xs, ys, this.scale) : "");
  }
}
