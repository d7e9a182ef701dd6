// Which edge or node is under a point of the diagram, from the layout alone (the same
// answer the drawing gives, since plots are drawn above every line): a plot box first
// (boxes never overlap), then a node, then the nearest edge line within `tol` px.
import type { Layout } from "./layout";

export type Hit = { kind: "edge"; key: string; index: number; part: "plot" | "line" } | { kind: "node"; key: string } | null;

const NODE_R = 8;

/** Distance from (x, y) to the segment (x1, y1)-(x2, y2). */
export function segmentDistance(x: number, y: number, x1: number, y1: number, x2: number, y2: number): number {
  const dx = x2 - x1;
  const dy = y2 - y1;
  const len2 = dx * dx + dy * dy;
  const t = len2 > 0 ? Math.max(0, Math.min(1, ((x - x1) * dx + (y - y1) * dy) / len2)) : 0;
  return Math.hypot(x - (x1 + t * dx), y - (y1 + t * dy));
}

/**
 * The edge or node drawn at layout point (x, y).
 *
 * @param visible optional filter on edges (edges hidden in place are not hit)
 * @param tol how far from a line a point still hits it (px at zoom 1)
 */
export function hitTest(lay: Layout, x: number, y: number, visible?: (index: number) => boolean, tol = 4): Hit {
  const hw = lay.bw / 2;
  const hh = lay.bh / 2;
  for (const e of lay.edges) {
    if (Math.abs(x - e.bx) <= hw && Math.abs(y - e.by) <= hh && (!visible || visible(e.index))) {
      return { kind: "edge", key: e.key, index: e.index, part: "plot" };
    }
  }
  for (const n of lay.nodes) {
    if (!n.collapsed && Math.hypot(x - n.x, y - n.y) <= NODE_R) return { kind: "node", key: n.key };
  }
  let best: Hit = null;
  let bestD = tol;
  for (const e of lay.edges) {
    if (visible && !visible(e.index)) continue;
    const d = Math.min(
      segmentDistance(x, y, e.a[0], e.a[1], e.bx, e.by + hh),
      segmentDistance(x, y, e.bx, e.by - hh, e.b[0], e.b[1]),
    );
    if (d <= bestD) {
      bestD = d;
      best = { kind: "edge", key: e.key, index: e.index, part: "line" };
    }
  }
  return best;
}
