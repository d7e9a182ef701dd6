// Diagram geometry, a pure function of `structure`: node layers stacked bottom (inputs) to
// top (outputs), and for each layer of edges a band of thumbnail boxes. Each box sits as
// close to its edge's midpoint as the boxes next to it allow (pykan draws them in a row too),
// so boxes never overlap even in fully connected layers; wide layers wrap into several rows.
import type { Edge, Node, Structure } from "../model";

export const BOX_W = 36;
export const BOX_H = 24;
const PITCH = BOX_W + 6; // horizontal distance between box centres
const ROW_PITCH = BOX_H + 8;
const NODE_GAP = 56;
const LINE_GAP = 28; // vertical room between a node row and the nearest box row
const MARGIN_Y = 30; // room for input / output labels
const MARGIN_X = 16;
const MIN_COLS = 16;

export interface NodePos {
  key: string; // "l,i"
  node: Node;
  x: number;
  y: number;
}

export interface EdgePos {
  index: number; // row in curves / scores
  key: string; // "l,i,j"
  edge: Edge;
  bx: number; // box centre
  by: number;
  d: string; // source -> box bottom, box top -> target
}

export interface Layout {
  width: number;
  height: number;
  nodes: NodePos[];
  edges: EdgePos[];
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

/** Place boxes at their desired x (sorted) without overlap, inside [lo, hi]. */
function spread(desired: number[], lo: number, hi: number): number[] {
  const xs = desired.slice();
  for (let k = 0; k < xs.length; k++) xs[k] = Math.max(xs[k], k ? xs[k - 1] + PITCH : lo);
  for (let k = xs.length - 1; k >= 0; k--) {
    xs[k] = Math.min(xs[k], k < xs.length - 1 ? xs[k + 1] - PITCH : hi);
  }
  return xs;
}

/**
 * Compute positions of nodes and edge boxes.
 *
 * Edges that are inactive (pruned) are left out unless `showPruned`.
 */
export function layout(s: Structure, showPruned: boolean): Layout {
  const nodes = nodesOf(s);
  const nLayers = Math.max(s.width?.length ?? 0, ...nodes.map((n) => n.l + 1), 1);
  const perLayer: Node[][] = Array.from({ length: nLayers }, () => []);
  for (const n of nodes) perLayer[n.l]?.push(n);
  perLayer.forEach((row) => row.sort((a, b) => a.i - b.i));

  const edgesPer: { edge: Edge; index: number }[][] = Array.from({ length: nLayers }, () => []);
  (s.edges ?? []).forEach((edge, index) => {
    if ((edge.active || showPruned) && edge.l >= 0 && edge.l < nLayers - 1) edgesPer[edge.l].push({ edge, index });
  });

  const maxNodes = Math.max(...perLayer.map((r) => r.length), 1);
  const maxEdges = Math.max(...edgesPer.map((r) => r.length), 0);
  const cols = Math.max(MIN_COLS, Math.floor((maxNodes * NODE_GAP) / PITCH));
  const inner = Math.max(280, maxNodes * NODE_GAP, Math.min(maxEdges, cols) * PITCH);
  const width = inner + 2 * MARGIN_X;
  const rowsPer = edgesPer.map((r) => Math.max(1, Math.ceil(r.length / Math.floor(inner / PITCH))));
  const bands = rowsPer.slice(0, nLayers - 1).map((rows) => 2 * LINE_GAP + rows * ROW_PITCH);
  const height = 2 * MARGIN_Y + bands.reduce((a, b) => a + b, 0);

  const layerY: number[] = [height - MARGIN_Y];
  for (let l = 0; l < nLayers - 1; l++) layerY.push(layerY[l] - bands[l]);

  const nodePos: NodePos[] = [];
  const byKey = new Map<string, NodePos>();
  perLayer.forEach((row, l) => {
    row.forEach((node, k) => {
      const p = { key: nodeKey(l, node.i), node, x: MARGIN_X + ((k + 0.5) * inner) / row.length, y: layerY[l] };
      nodePos.push(p);
      byKey.set(p.key, p);
    });
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
      .sort((p, q) => p.mid - q.mid || p.edge.to - q.edge.to || p.edge.i - q.edge.i || p.edge.j - q.edge.j);
    const rows = rowsPer[l];
    for (let r = 0; r < rows; r++) {
      const inRow = placed.filter((_, k) => k % rows === r);
      const xs = spread(inRow.map((p) => p.mid), MARGIN_X + PITCH / 2, MARGIN_X + inner - PITCH / 2);
      const by = layerY[l] - LINE_GAP - (r + 0.5) * ROW_PITCH;
      inRow.forEach((p, k) => {
        const bx = xs[k];
        const d = `M${r1(p.a.x)} ${r1(p.a.y)}L${r1(bx)} ${r1(by + BOX_H / 2)}M${r1(bx)} ${r1(by - BOX_H / 2)}L${r1(p.b.x)} ${r1(p.b.y)}`;
        edgePos.push({ index: p.index, key: edgeKey(p.edge), edge: p.edge, bx, by, d });
      });
    }
  });
  return { width, height, nodes: nodePos, edges: edgePos };
}
