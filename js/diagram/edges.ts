// One edge of the diagram, drawn as two parts: its connecting line (with a wider invisible
// hit stroke; the score's opacity is the visible stroke's stroke-opacity) in the lines layer, and the plot of its learned function (curve scaled to its
// own range, real activations as faint dots) in the plots layer above every line, so no
// line can cover a plot. The plot group carries `data-edge`, the line `data-line`.
// A plot is four elements (group, box, dots, curve) under one transform: every element, and
// every transform or opacity (each starts a paint chunk of its own), costs style, layout,
// paint and layerization on the first render of a big model and on every training frame, so
// the group itself is moved (no inner group) and the paths are written in its own pixels
// (one decimal, no scale of their own).
import { dotsPath, extent, linePath, run, svg, type Run, type Scale } from "../plot";
import type { EdgePos } from "./layout";

export interface EdgeView {
  pos: EdgePos;
  index: number; // row in curves / scores
  key: string;
  line: SVGGElement;
  linePaths: [SVGPathElement, SVGPathElement]; // hit stroke, visible stroke
  group: SVGGElement; // the plot: carries data-edge, the score opacity and the box position
  bg: SVGRectElement;
  curve: SVGPathElement;
  dots: SVGPathElement;
  title: SVGTitleElement | null; // the tooltip, made when first pointed at (setTitle)
  size: [number, number]; // box size the paths were drawn for
  opacity: number; // last opacity written (NaN: none yet; faint.ts opacityMoved)
  score: number | null; // score shown in the tooltip (written when shown)
  titled: boolean; // tooltip up to date with `score`
  drawn: [string, string]; // last curve / dots paths written
  placed: string; // last line path and box transform written (skip unchanged writes)
}

/** Decoded (E, P) / (E, S) arrays for all edges; any may be missing. */
export interface EdgeData {
  cx?: Float32Array;
  cy?: Float32Array;
  p: number; // points per curve
  sx?: Float32Array;
  sy?: Float32Array;
  s: number; // samples per edge
}

const PAD = 2;

const t1 = (v: number): number => Math.round(v * 10) / 10;

export function thumbTransform(pos: EdgePos, bw: number, bh: number): string {
  return `translate(${t1(pos.bx - bw / 2)},${t1(pos.by - bh / 2)})`;
}

let templates: { line: SVGGElement; group: SVGGElement } | null = null;

/** The DOM of an edge, made once: every edge is a deep clone (one call, not one per node). */
function template(): { line: SVGGElement; group: SVGGElement } {
  if (templates && templates.line.ownerDocument === document) return templates;
  const line = svg("g");
  svg("path", { class: "kw-edge-hit" }, line);
  svg("path", { class: "kw-edge-line" }, line);
  const group = svg("g");
  svg("rect", { class: "kw-thumb-bg", rx: 3 }, group);
  svg("path", { class: "kw-thumb-dots" }, group);
  svg("path", { class: "kw-thumb-curve" }, group);
  templates = { line, group };
  return templates;
}

/** Build the DOM of one edge (not yet attached, not yet placed). */
export function createEdge(pos: EdgePos): EdgeView {
  const { edge } = pos;
  const cls = ["kw-edge"];
  if (edge.symbolic) cls.push("kw-symbolic");
  if (!edge.active) cls.push("kw-inactive");
  const t = template();
  const line = t.line.cloneNode(true) as SVGGElement;
  line.setAttribute("class", cls.join(" ").replace("kw-edge", "kw-line"));
  line.setAttribute("data-line", pos.key);
  const hit = line.firstElementChild as SVGPathElement;
  const stroke = hit.nextElementSibling as SVGPathElement;
  const group = t.group.cloneNode(true) as SVGGElement;
  group.setAttribute("class", cls.join(" "));
  group.setAttribute("data-edge", pos.key);
  const bg = group.firstElementChild as SVGRectElement;
  const dots = bg.nextElementSibling as SVGPathElement;
  const curve = dots.nextElementSibling as SVGPathElement;
  if (edge.symbolic) {
    const label = svg("text", { class: "kw-thumb-label", x: 0, y: -2 }, group);
    label.textContent = edge.symbolic;
  }
  const view: EdgeView = {
    pos, index: pos.index, key: pos.key, line, linePaths: [hit, stroke], group, bg,
    curve, dots, title: null, size: [0, 0], drawn: ["", ""], placed: "", opacity: NaN, score: null, titled: false,
  };  // prettier-ignore
  return view;
}

/** Move an edge to `pos` with boxes of bw x bh; true when the box size changed (redraw). */
export function placeEdge(view: EdgeView, pos: EdgePos, bw: number, bh: number): boolean {
  view.pos = pos;
  const transform = thumbTransform(pos, bw, bh);
  if (view.placed !== pos.d + transform) {
    // a relayout moves few edges: unchanged attributes are not written (no style work)
    view.linePaths[0].setAttribute("d", pos.d);
    view.linePaths[1].setAttribute("d", pos.d);
    view.group.setAttribute("transform", transform);
    view.placed = pos.d + transform;
  }
  if (view.size[0] === bw && view.size[1] === bh) return false;
  view.bg.setAttribute("width", String(t1(bw)));
  view.bg.setAttribute("height", String(t1(bh)));
  view.size = [bw, bh];
  view.drawn = ["", ""];
  return true;
}

/** The tooltip of an edge (made on first use: a frame of scores rewrites none of them). */
export function setTitle(view: EdgeView, score: number | null): void {
  const { edge, key } = view.pos;
  let t = `edge (${key})`;
  if (edge.symbolic) t += `: ${edge.formula ?? edge.symbolic}`;
  if (!edge.active) t += " (pruned)";
  if (score != null && Number.isFinite(score)) t += `\nscore ${score.toPrecision(3)}`;
  t += "\nclick to inspect; drag away or press Delete to prune";
  if (!view.title) view.group.prepend((view.title = svg("title")));
  if (view.title.textContent !== t) view.title.textContent = t;
}

/** Runs of one edge's curve and samples. */
export function edgeRuns(data: EdgeData, index: number): { cx: Run | null; cy: Run | null; sx: Run | null; sy: Run | null } {
  return {
    cx: run(data.cx, index, data.p),
    cy: run(data.cy, index, data.p),
    sx: run(data.sx, index, data.s),
    sy: run(data.sy, index, data.s),
  };
}

/** Redraw the plot from new data, scaled to the edge's own min / max. */
export function drawEdge(view: EdgeView, data: EdgeData): void {
  const { cx, cy, sx, sy } = edgeRuns(data, view.index);
  const [bw, bh] = view.size;
  const scale: Scale = {
    x: extent([cx, sx]),
    y: extent([cy, sy]),
    left: PAD,
    top: PAD,
    width: bw - 2 * PAD,
    height: bh - 2 * PAD,
  };
  // Skip unchanged paths: re-parsing a path attribute costs more than comparing strings.
  const curve = linePath(cx, cy, scale);
  const dots = dotsPath(sx, sy, scale);
  if (curve !== view.drawn[0]) view.curve.setAttribute("d", curve);
  if (dots !== view.drawn[1]) view.dots.setAttribute("d", dots);
  view.drawn = [curve, dots];
}
