import { describe, expect, it } from "vitest";
import { network, smallState } from "../testing/fake";
import { BOX_W, layout, nodesOf } from "./layout";

describe("layout", () => {
  const s = smallState().structure;

  it("puts inputs at the bottom and outputs at the top", () => {
    const lay = layout(s, false);
    const y = (l: number) => lay.nodes.filter((p) => p.node.l === l).map((p) => p.y);
    expect(new Set(y(0)).size).toBe(1);
    expect(y(0)[0]).toBeGreaterThan(y(1)[0]);
    expect(y(1)[0]).toBeGreaterThan(y(2)[0]);
    expect(y(2)[0]).toBeGreaterThan(0);
    expect(y(0)[0]).toBeLessThan(lay.height);
  });

  it("orders nodes left to right by index", () => {
    const lay = layout(s, false);
    for (const l of [0, 1]) {
      const xs = lay.nodes.filter((p) => p.node.l === l).sort((a, b) => a.node.i - b.node.i).map((p) => p.x);
      expect(xs[0]).toBeLessThan(xs[1]);
    }
    const out = lay.nodes.find((p) => p.node.l === 2)!;
    expect(out.x).toBeCloseTo(lay.width / 2);
  });

  it("places edge boxes between their layers without overlap", () => {
    const lay = layout(s, true);
    expect(lay.edges).toHaveLength(8);
    const nodeY = (l: number) => lay.nodes.find((p) => p.node.l === l)!.y;
    for (const e of lay.edges) {
      expect(e.by).toBeLessThan(nodeY(e.edge.l));
      expect(e.by).toBeGreaterThan(nodeY(e.edge.l + 1));
      expect(e.bx - BOX_W / 2).toBeGreaterThanOrEqual(0);
      expect(e.bx + BOX_W / 2).toBeLessThanOrEqual(lay.width);
    }
    const row = lay.edges.filter((e) => e.edge.l === 0).sort((a, b) => a.bx - b.bx);
    for (let k = 1; k < row.length; k++) expect(row[k].bx - row[k - 1].bx).toBeGreaterThanOrEqual(BOX_W);
  });

  it("leaves pruned edges out unless asked", () => {
    expect(layout(s, false).edges).toHaveLength(7);
    expect(layout(s, false).edges.map((e) => e.key)).not.toContain("0,1,0");
  });

  it("wraps wide layers into rows and stays inside the canvas", () => {
    const { nodes, edges } = network([[10, 0], [20, 0], [5, 0]]);
    const lay = layout({ width: [], mult_arity: [], nodes, edges, in_vars: [], out_vars: [] }, false);
    expect(lay.edges).toHaveLength(300);
    const rows = new Set(lay.edges.filter((e) => e.edge.l === 0).map((e) => e.by));
    expect(rows.size).toBeGreaterThan(1);
    for (const e of lay.edges) expect(e.bx + BOX_W / 2).toBeLessThanOrEqual(lay.width + 1e-9);
  });

  it("derives nodes from width when the node list is missing", () => {
    const nodes = nodesOf({ ...s, nodes: [] });
    expect(nodes.map((n) => n.kind)).toEqual(["input", "input", "sum", "mult", "output"]);
  });
});
