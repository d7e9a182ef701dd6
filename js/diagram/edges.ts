// One edge of the diagram: its connecting line and a thumbnail of its learned function
// (curve scaled to its own range, with the real activations as faint dots).
import { dotsPath, extent, linePath, run, svg, type Run, type Scale } from "../plot";
import { BOX_H, BOX_W, type EdgePos } from "./layout";

export interface EdgeView {
  pos: EdgePos;
  group: SVGGElement;
  thumb: SVGGElement;
  curve: SVGPathElement;
  dots: SVGPathElement;
  title: SVGTitleElement;
  drawn: [string, string]; // last curve / dots paths written
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
const Q = 4; // thumbnail paths are written in integer quarter pixels (see plot.ts Scale.q)

export function thumbTransform(pos: EdgePos): string {
  return `translate(${Math.round((pos.bx - BOX_W / 2) * 10) / 10},${Math.round((pos.by - BOX_H / 2) * 10) / 10})`;
}

/** Build the DOM of one edge (not yet attached). */
export function createEdge(pos: EdgePos): EdgeView {
  const { edge } = pos;
  const cls = ["kw-edge"];
  if (edge.symbolic) cls.push("kw-symbolic");
  if (!edge.active) cls.push("kw-inactive");
  const group = svg("g", { class: cls.join(" "), "data-edge": pos.key });
  const title = svg("title", {}, group);
  svg("path", { class: "kw-edge-hit", d: pos.d }, group);
  svg("path", { class: "kw-edge-line", d: pos.d }, group);
  const thumb = svg("g", { class: "kw-thumb", transform: thumbTransform(pos) }, group);
  svg("rect", { class: "kw-thumb-bg", width: BOX_W, height: BOX_H, rx: 3 }, thumb);
  const fine = svg("g", { transform: `scale(${1 / Q})` }, thumb);
  const dots = svg("path", { class: "kw-thumb-dots" }, fine);
  const curve = svg("path", { class: "kw-thumb-curve" }, fine);
  if (edge.symbolic) {
    const label = svg("text", { class: "kw-thumb-label", x: 0, y: -2 }, thumb);
    label.textContent = edge.symbolic;
  }
  const view: EdgeView = { pos, group, thumb, curve, dots, title, drawn: ["", ""] };
  setTitle(view, null);
  return view;
}

export function setTitle(view: EdgeView, score: number | null): void {
  const { edge, key } = view.pos;
  let t = `edge (${key})`;
  if (edge.symbolic) t += `: ${edge.formula ?? edge.symbolic}`;
  if (!edge.active) t += " (pruned)";
  if (score != null && Number.isFinite(score)) t += `\nscore ${score.toPrecision(3)}`;
  t += "\nclick to inspect; drag away or press Delete to prune";
  view.title.textContent = t;
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

/** Redraw the thumbnail from new data, scaled to the edge's own min / max. */
export function drawEdge(view: EdgeView, data: EdgeData): void {
  const { cx, cy, sx, sy } = edgeRuns(data, view.pos.index);
  const scale: Scale = {
    x: extent([cx, sx]),
    y: extent([cy, sy]),
    left: PAD,
    top: PAD,
    width: BOX_W - 2 * PAD,
    height: BOX_H - 2 * PAD,
    q: Q,
  };
  // Skip unchanged paths: re-parsing a path attribute costs more than comparing strings.
  const curve = linePath(cx, cy, scale);
  const dots = dotsPath(sx, sy, scale);
  if (curve !== view.drawn[0]) view.curve.setAttribute("d", curve);
  if (dots !== view.drawn[1]) view.dots.setAttribute("d", dots);
  view.drawn = [curve, dots];
}
