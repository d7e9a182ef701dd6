// Pareto panel: candidate formulas / universes as points of complexity vs held-out error
// (log scale), the Pareto front drawn as a step line. Hovering a point shows its formula;
// clicking a point that came from a KAN universe checks that universe out, so the diagram
// and the timeline show its model and history (the current universe is ringed).
// State: the synced `pareto` trait only (kanwidget/widget/pareto.py); hover is UI state.
import { decode } from "../codec";
import type { Action, Pareto } from "../model";
import { html, num, svg } from "../plot";
import { fmtLoss } from "./format";

const W = 290;
const H = 190;
const LEFT = 46;
const RIGHT = 10;
const TOP = 10;
const BOTTOM = 30;

export interface ParetoPoint {
  index: number;
  complexity: number;
  error: number;
  formula: string;
  universe: string | null;
  front: boolean;
  best: boolean;
}

/** The points of a `pareto` trait (empty when the trait is `{}` or malformed). */
export function paretoPoints(p: Pareto | undefined): ParetoPoint[] {
  const cx = decode(p?.complexity)?.data;
  const err = decode(p?.error)?.data;
  if (!p || !cx || !err) return [];
  const n = Math.min(cx.length, err.length);
  const out: ParetoPoint[] = [];
  for (let k = 0; k < n; k++) {
    out.push({
      index: k,
      complexity: cx[k],
      error: err[k],
      formula: p.formula?.[k] ?? "",
      universe: p.universe?.[k] ?? null,
      front: !!p.front?.[k],
      best: p.best === k,
    });
  }
  return out;
}

/** log10 of an error, with errors <= 0 (exact formulas) drawn at `floor`. */
function logError(e: number, floor: number): number {
  return Math.log10(e > floor ? e : floor);
}

export function pointTooltip(pt: ParetoPoint, labels: Pareto["labels"]): string {
  const lines = [pt.formula || "(no formula)"];
  lines.push(`${labels?.complexity ?? "complexity"} ${num(pt.complexity)} · ${labels?.error ?? "error"} ${fmtLoss(pt.error)}`); // as the timeline
  lines.push(pt.universe ? `universe ${pt.universe}: click to check it out` : "no KAN universe");
  return lines.join("\n");
}

export class ParetoPanel {
  readonly el: HTMLElement;
  private head: HTMLElement;
  private plot: SVGSVGElement;
  private tip: HTMLElement;

  constructor(private send: (a: Action) => void) {
    this.el = html("div", "kw-pareto kw-panel");
    this.el.hidden = true;
    const bar = html("div", "kw-panel-head", "", this.el);
    this.head = html("span", "kw-panel-title", "Pareto front", bar);
    this.plot = svg("svg", { class: "kw-pareto-plot", width: W, height: H, viewBox: `0 0 ${W} ${H}` });
    this.el.appendChild(this.plot);
    this.tip = html("div", "kw-pareto-tip", "", this.el);
    this.tip.style.cssText = "font-family: var(--jp-code-font-family, monospace); font-size: 11px; min-height: 2.6em; white-space: pre-wrap; overflow-wrap: anywhere;";
  }

  /** Redraw from the trait; `current` is the version the model is at. */
  update(pareto: Pareto | undefined, current: string): void {
    const pts = paretoPoints(pareto);
    this.el.hidden = pts.length === 0;
    this.plot.replaceChildren();
    if (!pts.length) return;
    const labels = pareto?.labels;
    const onFront = pts.filter((p) => p.front).length;
    this.head.textContent = `Pareto front · ${pts.length} points, ${onFront} on the front`;
    const positive = pts.map((p) => p.error).filter((e) => e > 0);
    const floor = positive.length ? Math.min(...positive) / 10 : 1e-12;
    const cs = pts.map((p) => p.complexity);
    let [c0, c1] = [Math.min(...cs), Math.max(...cs)];
    if (c1 - c0 < 1) [c0, c1] = [c0 - 1, c1 + 1];
    const ls = pts.map((p) => logError(p.error, floor));
    let [e0, e1] = [Math.floor(Math.min(...ls)), Math.ceil(Math.max(...ls))];
    if (e1 === e0) [e0, e1] = [e0 - 1, e1 + 1];
    const px = (c: number): number => LEFT + ((c - c0) / (c1 - c0)) * (W - LEFT - RIGHT);
    const py = (l: number): number => TOP + ((e1 - l) / (e1 - e0)) * (H - TOP - BOTTOM);
    const axis = svg("g", { class: "kw-pareto-axes", style: "stroke: var(--jp-border-color1, #999); fill: var(--jp-ui-font-color2, #666); font-size: 10px;" }, this.plot);
    svg("path", { d: `M${LEFT},${TOP}V${H - BOTTOM}H${W - RIGHT}`, fill: "none" }, axis);
    for (let d = e0; d <= e1; d++) {
      const t = svg("text", { x: LEFT - 4, y: py(d) + 3, "text-anchor": "end", stroke: "none" }, axis);
      t.textContent = `1e${d}`;
    }
    for (const c of [c0, (c0 + c1) / 2, c1]) {
      const t = svg("text", { x: px(c), y: H - BOTTOM + 12, "text-anchor": "middle", stroke: "none" }, axis);
      t.textContent = num(Math.round(c));
    }
    const xl = svg("text", { x: (LEFT + W - RIGHT) / 2, y: H - 4, "text-anchor": "middle", stroke: "none" }, axis);
    xl.textContent = labels?.complexity ?? "complexity";
    const yl = svg("text", { x: 10, y: (TOP + H - BOTTOM) / 2, "text-anchor": "middle", stroke: "none", transform: `rotate(-90 10 ${(TOP + H - BOTTOM) / 2})` }, axis);
    yl.textContent = `${labels?.error ?? "error"} (log)`;
    const front = pts.filter((p) => p.front).sort((a, b) => a.complexity - b.complexity);
    if (front.length > 1) {
      let d = `M${px(front[0].complexity)},${py(logError(front[0].error, floor))}`;
      for (const p of front.slice(1)) d += `H${px(p.complexity)}V${py(logError(p.error, floor))}`;
      svg("path", { class: "kw-pareto-front", d, fill: "none", style: "stroke: var(--jp-brand-color1, #1976d2); stroke-width: 1.5; stroke-dasharray: 3 2;" }, this.plot);
    }
    for (const p of pts) {
      const isCurrent = p.universe !== null && p.universe === current;
      const color = p.front ? "var(--jp-brand-color1, #1976d2)" : "var(--jp-ui-font-color2, #888)";
      const c = svg("circle", {
        class: `kw-pareto-point${p.front ? " kw-front" : ""}${isCurrent ? " kw-current" : ""}${p.best ? " kw-best" : ""}`,
        cx: px(p.complexity), cy: py(logError(p.error, floor)), r: isCurrent ? 6 : 4,
        style: `fill: ${color}; fill-opacity: ${p.universe ? 0.85 : 0.4}; stroke: ${isCurrent ? "var(--jp-ui-font-color0, #000)" : "none"}; stroke-width: 2; cursor: ${p.universe ? "pointer" : "default"};`,
      }, this.plot);
      c.dataset.paretoPoint = String(p.index);
      if (p.universe) c.dataset.universe = p.universe;
      svg("title", {}, c).textContent = pointTooltip(p, labels);
      c.addEventListener("mouseenter", () => (this.tip.textContent = pointTooltip(p, labels)));
      c.addEventListener("click", () => this.pick(p, labels));
    }
    const cur = pts.find((p) => p.universe !== null && p.universe === current) ?? pts.find((p) => p.best);
    this.tip.textContent = cur ? pointTooltip(cur, labels) : "hover a point for its formula";
  }

  private pick(p: ParetoPoint, labels: Pareto["labels"]): void {
    this.tip.textContent = pointTooltip(p, labels);
    if (p.universe) this.send({ action: "checkout", version: p.universe });
  }
}
