import { describe, expect, it } from "vitest";
import type { Version } from "../model";
import { linkPath, roundOf, versionGraph } from "./lanes";

const v = (id: string, parent: string | null, time: number): Version => ({
  id, parent, operation: "op", train_loss: null, test_loss: null, n_edges: 0, formula: null, time,
});

describe("version graph", () => {
  const versions = [v("0.0", null, 0), v("0.1", "0.0", 1), v("1.1", "0.1", 3), v("0.2", "0.1", 2), v("2.0", "0.0", 4)];

  it("orders versions by time and gives each round its own lane", () => {
    const g = versionGraph(versions);
    expect(g.rows.map((r) => r.version.id)).toEqual(["0.0", "0.1", "0.2", "1.1", "2.0"]);
    expect(g.rows.map((r) => r.lane)).toEqual([0, 0, 0, 1, 2]);
    expect(g.lanes).toBe(3);
  });

  it("links every version to its parent", () => {
    const g = versionGraph(versions);
    expect(g.links.map((l) => `${l.from.version.id}->${l.to.version.id}`)).toEqual([
      "0.0->0.1", "0.1->0.2", "0.1->1.1", "0.0->2.0",
    ]);
    expect(linkPath(g.links[0])).toMatch(/^M\S+ \S+L/); // same lane: straight
    expect(linkPath(g.links[2])).toContain("C"); // new lane: a bend
  });

  it("parses rounds and ignores unknown parents", () => {
    expect(roundOf("12.3")).toBe(12);
    expect(roundOf("bad")).toBe(0);
    expect(versionGraph([v("0.1", "9.9", 0)]).links).toHaveLength(0);
  });
});
