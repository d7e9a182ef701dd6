import { describe, expect, it } from "vitest";
import type { Structure } from "../model";
import { network, smallState } from "../testing/fake";
import { hitTest } from "./hit";
import { BOX_H, BOX_W, layout, nodesOf, SMAX } from "./layout";
import { totalCrossings } from "./order";

const model = (width: number[][], names?: string[]): Structure => {
  const { nodes, edges } = network(width);
  return { width, mult_arity: width.map(() => []), nodes, edges, in_vars: names ?? [], out_vars: [] };
};

describe("layout", () => {
  const s = smallState().structure;

  it("puts inputs at the bottom and outputs at the top", () => {
    const lay = layout(s);
    const y = (l: number) => lay.nodes.filter((p) => p.node.l === l).map((p) => p.y);
    expect(new Set(y(0)).size).toBe(1);
    expect(y(0)[0]).toBeGreaterThan(y(1)[0]);
    expect(y(1)[0]).toBeGreaterThan(y(2)[0]);
    expect(y(2)[0]).toBeGreaterThan(0);
    expect(y(0)[0]).toBeLessThan(lay.height);
  });

  it("orders nodes left to right by index when no order has fewer crossings", () => {
    const lay = layout(s);
    for (const l of [0, 1]) {
      const xs = lay.nodes.filter((p) => p.node.l === l).sort((a, b) => a.node.i - b.node.i).map((p) => p.x);
      expect(xs[0]).toBeLessThan(xs[1]);
    }
    const out = lay.nodes.find((p) => p.node.l === 2)!;
    expect(out.x).toBeCloseTo(lay.width / 2);
  });

  it("places edge boxes between their layers without overlap", () => {
    const lay = layout(s, { showPruned: true });
    expect(lay.edges).toHaveLength(8);
    const nodeY = (l: number) => lay.nodes.find((p) => p.node.l === l)!.y;
    for (const e of lay.edges) {
      expect(e.by).toBeLessThan(nodeY(e.edge.l));
      expect(e.by).toBeGreaterThan(nodeY(e.edge.l + 1));
      expect(e.bx - lay.bw / 2).toBeGreaterThanOrEqual(0);
      expect(e.bx + lay.bw / 2).toBeLessThanOrEqual(lay.width);
    }
    for (const by of new Set(lay.edges.map((e) => e.by))) {
      const row = lay.edges.filter((e) => e.by === by).sort((a, b) => a.bx - b.bx);
      for (let k = 1; k < row.length; k++) expect(row[k].bx - row[k - 1].bx).toBeGreaterThanOrEqual(lay.bw);
    }
  });

  it("leaves pruned and hidden edges out", () => {
    expect(layout(s).edges).toHaveLength(7);
    expect(layout(s).edges.map((e) => e.key)).not.toContain("0,1,0");
    expect(layout(s, { hidden: (i) => i === 0 }).edges.map((e) => e.key)).not.toContain("0,0,0");
  });

  it("grows the plots with the available width, never below the minimum", () => {
    const small = layout(s, { width: 300 });
    const wide = layout(s, { width: 2400 });
    expect(layout(model([[10, 0], [20, 0], [5, 0]]), { width: 300 }).bw).toBe(BOX_W);
    expect(wide.bw).toBeCloseTo(BOX_W * SMAX);
    expect(wide.bh).toBeCloseTo(BOX_H * SMAX);
    expect(wide.width).toBeGreaterThan(2 * small.width);
    const big = layout(model([[8, 0], [16, 0], [16, 0], [1, 0]]), { width: 1200 });
    expect(big.bw).toBeGreaterThanOrEqual(BOX_W);
    expect(big.width).toBeLessThanOrEqual(1200 + 1e-9);
  });

  it("wraps wide layers into rows and stays inside the canvas", () => {
    const lay = layout(model([[10, 0], [20, 0], [5, 0]]));
    expect(lay.edges).toHaveLength(300);
    const rows = new Set(lay.edges.filter((e) => e.edge.l === 0).map((e) => e.by));
    expect(rows.size).toBeGreaterThan(1);
    for (const e of lay.edges) expect(e.bx + lay.bw / 2).toBeLessThanOrEqual(lay.width + 1e-9);
  });

  it("reorders nodes to remove the crossings of a pruned network (drawing only)", () => {
    const st = model([[4, 0], [4, 0], [1, 0]]);
    // keep x_i -> h_{3-i} only: drawn in index order every pair of edges crosses
    st.edges.forEach((e) => (e.active = e.l === 1 || e.to === 3 - e.i));
    const lay = layout(st);
    const pos = [0, 1, 2].map((l) => {
      const row = lay.nodes.filter((p) => p.node.l === l).sort((a, b) => a.x - b.x);
      const out: number[] = [];
      row.forEach((p, k) => (out[p.node.i] = k));
      return out;
    });
    const links = lay.edges.map(({ edge }) => ({ l: edge.l, u: edge.i, v: edge.to }));
    expect(totalCrossings(links, [[0, 1, 2, 3], [0, 1, 2, 3], [0]])).toBe(6);
    expect(totalCrossings(links, pos)).toBe(0);
    expect(st.edges.filter((e) => e.active)).toHaveLength(8); // the structure is untouched
  });

  it("collapses 30 inputs without drawn edges into one node and turns long labels", () => {
    const names = Array.from({ length: 30 }, (_, i) => `a_rather_long_input_name_${i}`);
    const st = model([[30, 0], [5, 0], [1, 0]], names);
    const all = layout(st, { width: 900 });
    expect(all.nodes.filter((p) => p.node.l === 0)).toHaveLength(30);
    expect(all.rotateInputs).toBe(true);
    const xs = all.nodes.filter((p) => p.node.l === 0).map((p) => p.x).sort((a, b) => a - b);
    for (let k = 1; k < xs.length; k++) expect(xs[k] - xs[k - 1]).toBeGreaterThanOrEqual(18 - 1e-9);
    const some = layout(st, { width: 900, hidden: (i) => st.edges[i].l === 0 && st.edges[i].i > 3 });
    const inputs = some.nodes.filter((p) => p.node.l === 0);
    expect(inputs).toHaveLength(5);
    expect(inputs.find((p) => p.collapsed)?.collapsed).toEqual(Array.from({ length: 26 }, (_, k) => k + 4));
    expect(layout(st, { width: 900, hidden: () => true, expandInputs: true }).nodes.filter((p) => p.node.l === 0)).toHaveLength(30);
  });

  it("derives nodes from width when the node list is missing", () => {
    const nodes = nodesOf({ ...s, nodes: [] });
    expect(nodes.map((n) => n.kind)).toEqual(["input", "input", "sum", "mult", "output"]);
  });
});

describe("hitTest", () => {
  for (const width of [[[4, 0], [10, 0], [10, 0], [1, 0]], [[8, 0], [16, 0], [16, 0], [1, 0]]]) {
    for (const avail of [700, 1300, 2400]) {
      it(`maps the centre and corners of every plot of [${width.map((w) => w[0])}] at ${avail} px to its edge`, () => {
        const lay = layout(model(width), { width: avail });
        expect(lay.edges).toHaveLength(width.slice(1).reduce((n, w, l) => n + w[0] * width[l][0], 0));
        const inset = 1;
        for (const e of lay.edges) {
          for (const [dx, dy] of [[0, 0], [-1, -1], [1, -1], [-1, 1], [1, 1]]) {
            const x = e.bx + dx * (lay.bw / 2 - inset);
            const y = e.by + dy * (lay.bh / 2 - inset);
            expect(hitTest(lay, x, y)).toEqual({ kind: "edge", key: e.key, index: e.index, part: "plot" });
          }
        }
      });
    }
  }

  it("finds an edge by its line, a node by its circle, and nothing on empty ground", () => {
    const lay = layout(smallState().structure);
    const e = lay.edges[0];
    const hh = lay.bh / 2;
    const mid: [number, number] = [(e.a[0] + e.bx) / 2, (e.a[1] + e.by + hh) / 2];
    expect(hitTest(lay, mid[0] + 2, mid[1])).toMatchObject({ kind: "edge", part: "line" });
    const n = lay.nodes[0];
    expect(hitTest(lay, n.x + 3, n.y)).toEqual({ kind: "node", key: n.key });
    expect(hitTest(lay, 1, 1)).toBeNull();
    expect(hitTest(lay, e.bx, e.by, () => false)).toBeNull(); // hidden edges are not hit
  });
});
