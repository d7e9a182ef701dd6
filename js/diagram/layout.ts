// Diagram geometry, a pure function of `structure` and the drawing options: node layers
// stacked bottom (inputs) to top (outputs), ordered to reduce crossings (order.ts, drawing
// only), and for each layer of edges a band of plot boxes. Each box sits as close to its
// edge's midpoint as the boxes next to it allow, so boxes never overlap; wide layers wrap
// into rows. Units are CSS pixels at zoom 1: the plots grow (up to SMAX) to use the
// available width and never shrink below BOX_W x BOX_H; what does not fit scrolls.
import type { Edge, Node, Structure } from "../model";
import { collapseInputs, labelText } from "./inputs";
import { orderNodes, type Link } from "./order";

export const BOX_W = 40; // plot box at scale 1 (the minimum)
export const BOX_H = 28;
export const SMAX = 1.8; // largest plot scale
const GAP_X = 6; // between boxes of a row
const GAP_Y = 8; // between rows
const NODE_GAP = 56; // preferred distance between nodes
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

const r1 = (v: number): number => Math.round(v * 10) / 10;
const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));

/** Place boxes at their desired x (sorted) without overlap, inside [lo, hi]. */
function spread(desired: number[], pitch: number, lo: number, hi: number): number[] {
  const xs = desired.slice();
  for (let k = 0; k < xs.length; k++) xs[k] = Math.max(xs[k], k ? xs[k - 1] + pitch : lo);
  for (let k = xs.length - 1; k >= 0; k--) xs[k] = Math.min(xs[k], k < xs.length - 1 ? xs[k + 1] - pitch : hi);
  return xs;
}

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
  const oneRow = maxEdges * pitch;
  const inner = Math.max(nMax * MIN_NODE_GAP, Math.min(avail, Math.max(oneRow, nMax * NODE_GAP, 280) * 1.6));
  const perRow = Math.max(1, Math.floor(inner / pitch));
  const rowsPer = edgesPer.map((r) => Math.max(1, Math.ceil(r.length / perRow)));
  const bands = rowsPer.slice(0, nLayers - 1).map((n) => 2 * LINE_GAP + n * rowPitch);

  // input labels: side by side while they fit, else at an angle
  const labels = perLayer[0].map((n) => labelText(n.label || s.in_vars?.[n.i] || `x${n.i + 1}`));
  const labelW = Math.max(0, ...labels.map((t) => t.length)) * CHAR_W + 8;
  const rotateInputs = labelW > inner / Math.max(1, nNodes[0]);
  const bottom = rotateInputs ? 26 + labelW * Math.SQRT1_2 : 44;
  // a turned label runs down and to the left of its node: leave room for the first one
  const left = rotateInputs ? Math.max(MARGIN_X, labelW * Math.SQRT1_2 - inner / (2 * nNodes[0]) + 4) : MARGIN_X;
  const width = inner + left + MARGIN_X;
  const height = TOP + bottom + bands.reduce((a, b) => a + b, 0);

  const layerY: number[] = [height - bottom];
  for (let l = 0; l < nLayers - 1; l++) layerY.push(layerY[l] - bands[l]);

  const nodePos: NodePos[] = [];
  const byKey = new Map<string, NodePos>();
  ordered.forEach((row, l) => {
    const n = nNodes[l];
    const at = (k: number): number => left + ((k + 0.5) * inner) / n;
    row.forEach((node, k) => {
      const p: NodePos = { key: nodeKey(l, node.i), node, x: at(k), y: layerY[l] };
      nodePos.push(p);
      byKey.set(p.key, p);
    });
    if (l === 0 && collapsed.length) {
      const node: Node = { l: 0, i: -1, kind: "input", label: `+${collapsed.length}` };
      nodePos.push({ key: "0,+", node, x: at(row.length), y: layerY[0], collapsed });
    }
  });

  const edgePos: EdgePos[] = [];
  edgesPer.forEach((list, l) => {
    const placed = list
      .map(({ edge, index }) => {
        const a = byKey.get(nodeKey(l, edge.i));
        const b = byKey.get(nodeKey(l + 1, edge.to));
        return a && b ? { edge, index, a, b, mid: (a.x + b.x) / 2 } : null;
      })
      .filter((p): p is NonNullable<typeof p> => p !== null)
      .sort((p, q) => p.mid - q.mid || p.b.x - q.b.x || p.a.x - q.a.x || p.edge.j - q.edge.j);
    const nRows = rowsPer[l];
    for (let r = 0; r < nRows; r++) {
      const inRow = placed.filter((_, k) => k % nRows === r);
      const xs = spread(inRow.map((p) => p.mid), pitch, left + pitch / 2, left + inner - pitch / 2);
      const by = layerY[l] - LINE_GAP - (r + 0.5) * rowPitch;
      inRow.forEach((p, k) => {
        const bx = xs[k];
        const d =
          `M${r1(p.a.x)} ${r1(p.a.y)}L${r1(bx)} ${r1(by + bh / 2)}` +
          `M${r1(bx)} ${r1(by - bh / 2)}L${r1(p.b.x)} ${r1(p.b.y)}`;
        edgePos.push({ index: p.index, key: edgeKey(p.edge), edge: p.edge, bx, by, a: [p.a.x, p.a.y], b: [p.b.x, p.b.y], d });
      });
    }
  });
  return { width, height, bw, bh, nodes: nodePos, edges: edgePos, rotateInputs };
}
