// One edge of the diagram, drawn as two parts: its connecting line (one path; the score's
// opacity is its `stroke-opacity`; what points at a line is found from the layout's
// geometry, pointer.ts, so there is no wider invisible hit stroke) in the lines layer, and
// the plot of its learned function (curve scaled to its own range, real activations as
// faint dots) in the plots layer above every line, so no line can cover a plot. The plot
// group carries `data-edge`, the line `data-line`.
// A plot is four elements (group, box, dots, curve) under one transform: every element, and
// every transform or opacity (each starts a paint chunk of its own), costs style, layout,
// paint and layerization on the first render of a big model and on every training frame, so
// the group itself is moved (no inner group) and the paths are written in its own pixels
// (one decimal, no scale of their own).
// The edges a layout adds are made from one markup string per layer, parsed once
// (`createEdges`): on a first render of 500 edges this replaces thousands of DOM calls made
// by code V8 has not optimised yet. A plot's two paths are made when it is first drawn
// (drawEdge): a first render draws a slice of plots and the rest over the next frames, so
// the first task styles and lays out only the boxes of the others.
import { dec1, dotsPath, escapeMarkup, extent, linePath, run, svg, type Run, type Scale } from "../plot";
import type { EdgePos } from "./layout";

export interface EdgeView {
  pos: EdgePos;
  index: number; // row in curves / scores
  key: string;
  line: SVGPathElement; // the connecting line: carries data-line and the score's stroke-opacity
  group: SVGGElement; // the plot: carries data-edge, the score opacity and the box position
  bg: SVGRectElement;
  curve: SVGPathElement | null; // the plot's paths, made when first drawn
  dots: SVGPathElement | null;
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

export function thumbTransform(pos: EdgePos, bw: number, bh: number): string {
  return `translate(${dec1(pos.bx - bw / 2)},${dec1(pos.by - bh / 2)})`;
}


/** The classes of an edge's plot ("kw-edge ...") and line ("kw-line ..."). */
function classes(pos: EdgePos): [string, string] {
  const { edge } = pos;
  const mods = (edge.symbolic ? " kw-symbolic" : "") + (edge.active ? "" : " kw-inactive");
  return ["kw-edge" + mods, "kw-line kw-edge-line" + mods];
}

/** One edge to make: where it goes and the opacity it is first drawn at. */
export interface NewEdge {
  pos: EdgePos;
  opacity: number;
}

/**
 * Make, place and attach the DOM of `edges` (boxes of bw x bh), appended to the `lines` and
 * `plots` layers: one markup string per layer, parsed once. Keyboard hooks (tabindex -1, an
 * aria-label) come with the plot; its paths are made when it is drawn (drawEdge).
 *
 * @returns a view per edge, in the order of `edges`
 */
export function createEdges(edges: NewEdge[], bw: number, bh: number, lines: SVGGElement, plots: SVGGElement): EdgeView[] {
  if (!edges.length) return [];
  const w = dec1(bw);
  const h = dec1(bh);
  const lineParts = new Array<string>(edges.length);
  const plotParts = new Array<string>(edges.length);
  for (let k = 0; k < edges.length; k++) {
    const { pos, opacity } = edges[k];
    const [plotClass, lineClass] = classes(pos);
    const o = opacity.toFixed(3);
    lineParts[k] = `<path class="${lineClass}" data-line="${pos.key}" d="${pos.d}" stroke-opacity="${o}"/>`;
    const label = pos.edge.symbolic ? `<text class="kw-thumb-label" x="0" y="-2">${escapeMarkup(pos.edge.symbolic)}</text>` : "";
    plotParts[k] =
      `<g class="${plotClass}" data-edge="${pos.key}" transform="${thumbTransform(pos, bw, bh)}" opacity="${o}" tabindex="-1" aria-label="edge ${pos.key}">` +
      `<rect class="kw-thumb-bg" rx="3" width="${w}" height="${h}"/>${label}</g>`;
  }
  const firstLine = append(lines, lineParts.join(""));
  const firstPlot = append(plots, plotParts.join(""));
  const views = new Array<EdgeView>(edges.length);
  let line = firstLine as SVGPathElement | null;
  let group = firstPlot as SVGGElement | null;
  for (let k = 0; k < edges.length; k++) {
    const { pos, opacity } = edges[k];
    views[k] = {
      pos, index: pos.index, key: pos.key, line: line!, group: group!, bg: group!.firstElementChild as SVGRectElement,
      curve: null, dots: null, title: null, size: [bw, bh], drawn: ["", ""], placed: pos.d + thumbTransform(pos, bw, bh), opacity, score: null,
      titled: false,
    };  // prettier-ignore
    line = line!.nextElementSibling as SVGPathElement | null;
    group = group!.nextElementSibling as SVGGElement | null;
  }
  return views;
}

const paths = new Map<string, SVGPathElement>();

/** A new path element of class `cls` (a shallow clone of one made once per document). */
function pathOf(cls: string): SVGPathElement {
  let p = paths.get(cls);
  if (!p || p.ownerDocument !== document) paths.set(cls, (p = svg("path", { class: cls })));
  return p.cloneNode(false) as SVGPathElement;
}

/** Parse `markup` as children appended to `layer` (SVG elements); the first new child. */
function append(layer: SVGGElement, markup: string): Element {
  const before = layer.lastElementChild;
  layer.insertAdjacentHTML("beforeend", markup);
  return before ? before.nextElementSibling! : layer.firstElementChild!;
}

/** Move an edge to `pos` with boxes of bw x bh; true when the box size changed (redraw). */
export function placeEdge(view: EdgeView, pos: EdgePos, bw: number, bh: number): boolean {
  view.pos = pos;
  const transform = thumbTransform(pos, bw, bh);
  if (view.placed !== pos.d + transform) {
    // a relayout moves few edges: unchanged attributes are not written (no style work)
    view.line.setAttribute("d", pos.d);
    view.group.setAttribute("transform", transform);
    view.placed = pos.d + transform;
  }
  if (view.size[0] === bw && view.size[1] === bh) return false;
  view.bg.setAttribute("width", dec1(bw));
  view.bg.setAttribute("height", dec1(bh));
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
  if (!view.curve || !view.dots) {
    // first drawn: both paths (clones, not a parse per plot), above the box and below a label
    view.dots = pathOf("kw-thumb-dots");
    view.curve = pathOf("kw-thumb-curve");
    view.dots.setAttribute("d", dots);
    view.curve.setAttribute("d", curve);
    view.bg.after(view.dots, view.curve);
  } else {
    if (curve !== view.drawn[0]) view.curve.setAttribute("d", curve);
    if (dots !== view.drawn[1]) view.dots.setAttribute("d", dots);
  }
  view.drawn = [curve, dots];
}
