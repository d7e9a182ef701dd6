// Diagram geometry, a pure function of `structure` and the drawing options: node layers
// stacked bottom (inputs) to top (outputs), ordered to reduce crossings (order.ts, drawing
// only), spread over the whole available width, and for each layer of edges a band of plot
// boxes. Wide layers wrap into rows; each box goes to the row where it can sit closest to
// the point of its own edge's straight line at that row's height (rows.ts), so a plot sits
// on its edge unless its neighbours push it aside, and boxes never overlap. Units are CSS
// pixels at zoom 1: the plots grow (up to SMAX) with the available width and never shrink
// below BOX_W x BOX_H; what does not fit scrolls.
import type { Edge, Node, Structure } from "../model";
import { dec1 } from "../plot";
import { collapseInputs, labelText } from "./inputs";
import { orderNodes, type Link } from "./order";
import { bandRows } from "./rows";

export const BOX_W = 40; // plot box at scale 1 (the minimum)
export const BOX_H = 28;
export const SMAX = 1.8; // largest plot scale
const GAP_X = 6; // between boxes of a row
const GAP_Y = 8; // between rows
const MIN_NODE_GAP = 18; // distance between nodes when a layer is wide (labels turn)
const LINE_GAP = 28; // vertical room between a node row and the nearest box row
const TOP = 30; // room for output labels
const MARGIN_X = 16;
const CHAR_W = 7.2; // width of one label character (12 px monospace)
const ROW_TARGET = 16; // plots grow until this many fit in a row
export const DEFAULT_WIDTH = 640;

export interface NodePos {
  key: string; // "l,i"; "0,+" for the collapsed inputs
  node: Node;
  x: number;
  y: number;
  collapsed?: number[]; // input indices drawn as one "+N" node
}

export interface EdgePos {
  index: number; // row in curves / scores
  key: string; // "l,i,j"
  edge: Edge;
  bx: number; // box centre
  by: number;
  a: [number, number]; // source node
  b: [number, number]; // target node
  d: string; // source -> box bottom, box top -> target
}

export interface Layout {
  width: number;
  height: number;
  bw: number; // box size
  bh: number;
  nodes: NodePos[];
  edges: EdgePos[];
  rotateInputs: boolean; // input labels drawn at an angle (too many to fit side by side)
}

export interface LayoutOptions {
  showPruned?: boolean; // draw inactive edges too
  width?: number; // available width in CSS px
  hidden?: (index: number) => boolean; // edges left out (e.g. faint ones)
  expandInputs?: boolean; // never collapse inputs
}

export const nodeKey = (l: number, i: number): string => `${l},${i}`;
export const edgeKey = (e: { l: number; i: number; j: number }): string => `${e.l},${e.i},${e.j}`;

/** Nodes from `structure.nodes`, or derived from `width` when the list is absent. */
export function nodesOf(s: Structure): Node[] {
  if (s.nodes && s.nodes.length) return s.nodes;
  const out: Node[] = [];
  const width = s.width ?? [];
  width.forEach((w, l) => {
    const [nSum, nMult] = Array.isArray(w) ? w : [Number(w), 0];
    for (let i = 0; i < nSum + (nMult ?? 0); i++) {
      const kind = l === 0 ? "input" : l === width.length - 1 ? "output" : i < nSum ? "sum" : "mult";
      out.push({ l, i, kind, label: "" });
    }
  });
  return out;
}

const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));

/** Compute positions of nodes and edge boxes (see LayoutOptions). */
export function layout(s: Structure, opts: LayoutOptions = {}): Layout {
  const nodes = nodesOf(s);
  const nLayers = Math.max(s.width?.length ?? 0, ...nodes.map((n) => n.l + 1), 1);
  const perLayer: Node[][] = Array.from({ length: nLayers }, () => []);
  for (const n of nodes) perLayer[n.l]?.push(n);
  perLayer.forEach((row) => row.sort((a, b) => a.i - b.i));

  // drawn edges, per layer
  const hidden = opts.hidden ?? (() => false);
  const edgesPer: { edge: Edge; index: number }[][] = Array.from({ length: nLayers }, () => []);
  (s.edges ?? []).forEach((edge, index) => {
    if (!(edge.active || opts.showPruned) || hidden(index) || edge.l < 0 || edge.l >= nLayers - 1) return;
    edgesPer[edge.l].push({ edge, index });
  });

  // inputs beyond MAX_INPUTS without a drawn edge become one "+N" node
  const connected = new Set<number>(edgesPer[0]?.map(({ edge }) => edge.i) ?? []);
  const { shown, collapsed } = collapseInputs(
    perLayer[0].map((n) => n.i),
    connected,
    !!opts.expandInputs || nLayers < 2,
  );

  // crossing reduction over the drawn edges (positions are slots in perLayer)
  const shownSet = new Set(shown);
  const rows = perLayer.map((row, l) => (l === 0 ? row.filter((n) => shownSet.has(n.i)) : row));
  const rowSlot = rows.map((row) => new Map(row.map((n, k) => [n.i, k])));
  const links: Link[] = [];
  edgesPer.forEach((list, l) =>
    list.forEach(({ edge }) => {
      const u = rowSlot[l].get(edge.i);
      const v = rowSlot[l + 1]?.get(edge.to);
      if (u !== undefined && v !== undefined) links.push({ l, u, v });
    }),
  );
  const order = orderNodes(rows.map((r) => r.length), links);
  const ordered = rows.map((row, l) => order[l].map((k) => row[k]));

  // sizes: plots grow to use the width, nodes spread over it, wide layers wrap
  const avail = Math.max(280, (opts.width ?? DEFAULT_WIDTH) - 2 * MARGIN_X);
  const maxEdges = Math.max(1, ...edgesPer.map((r) => r.length));
  const scale = clamp(avail / (Math.min(maxEdges, ROW_TARGET) * (BOX_W + GAP_X)), 1, SMAX);
  const bw = BOX_W * scale;
  const bh = BOX_H * scale;
  const pitch = bw + GAP_X;
  const rowPitch = bh + GAP_Y;
  const nNodes = ordered.map((row, l) => row.length + (l === 0 && collapsed.length ? 1 : 0));
  const nMax = Math.max(1, ...nNodes);
    // the drawing spans the available width (wider only when the nodes need it)
  const inner = Math.max(nMax * MIN_NODE_GAP, avail);
  // the gap between a node row and the boxes grows with the node spacing (no flat lines)
  const lineGap = clamp((0.12 * inner) / nMax, LINE_GAP, 2.5 * LINE_GAP);

  // input labels: side by side while they fit, else at an angle
  const labels = perLayer[0].map((n) => labelText(n.label || s.in_vars?.[n.i] || `x_${n.i + 1}`));
  const labelW = Math.max(0, ...labels.map((t) => t.length)) * CHAR_W + 8;
  const rotateInputs = labelW > inner / Math.max(1, nNodes[0]);
  const bottom = rotateInputs ? 26 + labelW * Math.SQRT1_2 : 44;
  // a turned label runs down and to the left of its node: leave room for the first one
  const left = rotateInputs ? Math.max(MARGIN_X, labelW * Math.SQRT1_2 - inner / (2 * nNodes[0]) + 4) : MARGIN_X;
  const width = inner + left + MARGIN_X;
  const nodeX = (l: number, k: number): number => left + ((k + 0.5) * inner) / nNodes[l];
  const slot = ordered.map((row) => new Map(row.map((n, k) => [n.i, k])));

  // each band: its rows and boxes (rows.ts), in band coordinates
  const bandsOf = edgesPer.slice(0, nLayers - 1).map((list, l) => {
    const drawn = list.filter(({ edge }) => slot[l].has(edge.i) && slot[l + 1]?.has(edge.to));
    const ends = drawn.map(({ edge }): [number, number] => [nodeX(l, slot[l].get(edge.i)!), nodeX(l + 1, slot[l + 1].get(edge.to)!)]);
    return { drawn, ends, ...bandRows(ends, lineGap, rowPitch, pitch, left + pitch / 2, left + inner - pitch / 2, bw / 2) };
  });
  const height = TOP + bottom + bandsOf.reduce((a, band) => a + band.height, 0);
  const layerY: number[] = [height - bottom];
  for (let l = 0; l < nLayers - 1; l++) layerY.push(layerY[l] - bandsOf[l].height);

  const nodePos: NodePos[] = [];
  ordered.forEach((row, l) => {
    row.forEach((node, k) => nodePos.push({ key: nodeKey(l, node.i), node, x: nodeX(l, k), y: layerY[l] }));
    if (l === 0 && collapsed.length) {
      const node: Node = { l: 0, i: -1, kind: "input", label: `+${collapsed.length}` };
      nodePos.push({ key: "0,+", node, x: nodeX(0, row.length), y: layerY[0], collapsed });
    }
  });

  const edgePos: EdgePos[] = [];
  bandsOf.forEach(({ drawn, ends, boxes }, l) => {
    drawn.forEach(({ edge, index }, k) => {
      const a: [number, number] = [ends[k][0], layerY[l]];
      const b: [number, number] = [ends[k][1], layerY[l + 1]];
      const bx = boxes[k].x;
      const by = layerY[l] - lineGap - (boxes[k].row + 0.5) * rowPitch;
      const d = `M${dec1(a[0])} ${dec1(a[1])}L${dec1(bx)} ${dec1(by + bh / 2)}M${dec1(bx)} ${dec1(by - bh / 2)}L${dec1(b[0])} ${dec1(b[1])}`;
      edgePos.push({ index, key: edgeKey(edge), edge, bx, by, a, b, d });
    });
  });
  return { width, height, bw, bh, nodes: nodePos, edges: edgePos, rotateInputs };
}
