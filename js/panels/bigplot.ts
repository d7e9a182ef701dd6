// The inspector's large plot of one edge: curve, activation samples, axis ranges, and an
// optional overlay (a hovered symbolic candidate) drawn on the same scale and clipped.
import { dotsPath, extent, linePath, num, svg, type Run, type Scale } from "../plot";

const W = 260;
const H = 160;
const LEFT = 40;
const BOTTOM = 18;

export class BigPlot {
  readonly el: SVGSVGElement;
  private clip: SVGSVGElement;
  private dots: SVGPathElement;
  private curve: SVGPathElement;
  private overlay: SVGPathElement;
  private labels: SVGTextElement[];
  private scale: Scale | null = null;

  constructor() {
    this.el = svg("svg", { class: "kw-bigplot", viewBox: `0 0 ${W} ${H}`, width: W, height: H });
    const pw = W - LEFT - 4;
    const ph = H - BOTTOM - 4;
    svg("rect", { class: "kw-bigplot-bg", x: LEFT, y: 4, width: pw, height: ph }, this.el);
    // A nested <svg> clips its content to the plot area.
    this.clip = svg("svg", { x: LEFT, y: 4, width: pw, height: ph, viewBox: `0 0 ${pw} ${ph}` }, this.el);
    this.dots = svg("path", { class: "kw-big-dots" }, this.clip);
    this.curve = svg("path", { class: "kw-big-curve" }, this.clip);
    this.overlay = svg("path", { class: "kw-big-overlay" }, this.clip);
    const at: [number, number, string][] = [
      [LEFT, H - 4, "start"], // x min
      [W - 4, H - 4, "end"], // x max
      [LEFT - 3, H - BOTTOM, "end"], // y min
      [LEFT - 3, 12, "end"], // y max
    ];
    this.labels = at.map(([x, y, anchor]) => svg("text", { class: "kw-axis-label", x, y, "text-anchor": anchor }, this.el));
  }

  /** Draw an edge's curve and samples (scaled to their joint range). */
  draw(cx: Run | null, cy: Run | null, sx: Run | null, sy: Run | null): void {
    const x = extent([cx, sx]);
    const [y0, y1] = extent([cy, sy]);
    const pad = 0.06 * (y1 - y0);
    const y: [number, number] = [y0 - pad, y1 + pad];
    const s = { x, y, left: 0, top: 0, width: W - LEFT - 4, height: H - BOTTOM - 8 };
    this.scale = s;
    this.curve.setAttribute("d", linePath(cx, cy, s));
    this.dots.setAttribute("d", dotsPath(sx, sy, s));
    [x[0], x[1], y0, y1].forEach((v, k) => (this.labels[k].textContent = num(v)));
  }

  /** Overlay another curve (e.g. a symbolic candidate) or clear it with nulls. */
  setOverlay(xs: Run | null, ys: Run | null): void {
    this.overlay.setAttribute("d", this.scale && xs && ys ? linePath(xs, ys, this.scale) : "");
  }
}
