import { describe, expect, it } from "vitest";
import type { Structure } from "../model";
import { network } from "../testing/fake";
import { layout } from "./layout";
import { bandRows, centred, lineX, placeInRows, type Line } from "./rows";

const model = (width: number[]): Structure => {
  const w = width.map((n) => [n, 0]);
  const { nodes, edges } = network(w);
  return { width: w, mult_arity: w.map(() => []), nodes, edges, in_vars: [], out_vars: [] };
};

/** Distance along x from each box centre to its own edge's straight line at the box's height. */
const offsets = (s: Structure, width: number, hidden?: (i: number) => boolean): number[] =>
  layout(s, { width, hidden }).edges.map((e) => Math.abs(e.bx - lineX({ a: e.a, b: e.b }, e.by)));

describe("plot rows", () => {
  it("lineX follows the straight line between the nodes", () => {
    expect(lineX({ a: [0, 0], b: [100, -100] }, -50)).toBeCloseTo(50);
    expect(lineX({ a: [40, 10], b: [10, -50] }, -20)).toBeCloseTo(25);
    expect(lineX({ a: [7, 0], b: [7, -80] }, -33)).toBeCloseTo(7);
  });

  it("centred keeps the pitch at the least squared distance, inside the bounds", () => {
    expect(centred([0, 0, 0], 10, -100, 100)).toEqual([-10, 0, 10]);
    expect(centred([0, 0], 10, 0, 100)).toEqual([0, 10]);
    expect(centred([95, 100], 10, 0, 100)).toEqual([90, 100]);
    expect(centred([30, 5, 60], 10, 0, 100)).toEqual([30, 5, 60]); // already apart: unchanged
  });

  it("puts uncrowded boxes exactly on their lines", () => {
    const lines: Line[] = [0, 1, 2, 3].map((k) => ({ a: [100 * k, 0], b: [100 * k + 60, -200] }));
    const rowY = [-70, -130];
    const boxes = placeInRows(lines, rowY, 30, 0, 400);
    boxes.forEach((b, k) => expect(b.x).toBeCloseTo(lineX(lines[k], rowY[b.row])));
  });

  it("never overlaps boxes of a row and keeps them inside the band, however crowded", () => {
    let seed = 7;
    const rand = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 500;
    const ends = Array.from({ length: 90 }, (): [number, number] => [rand(), rand()]);
    const { rows, boxes } = bandRows(ends, 30, 40, 36, 18, 482);
    expect(rows).toBeGreaterThanOrEqual(Math.ceil(90 / 13));
    for (let r = 0; r < rows; r++) {
      const xs = boxes.filter((b) => b.row === r).map((b) => b.x).sort((p, q) => p - q);
      xs.forEach((x, m) => {
        expect(x).toBeGreaterThanOrEqual(18 - 1e-9);
        expect(x).toBeLessThanOrEqual(482 + 1e-9);
        if (m) expect(x - xs[m - 1]).toBeGreaterThanOrEqual(36 - 1e-9);
      });
    }
  });

  it("bandRows places exactly as placeInRows does on the band's straight lines", () => {
    let seed = 11;
    const rand = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 900;
    for (const n of [5, 40, 190]) {
      const ends = Array.from({ length: n }, (): [number, number] => [rand(), rand()]);
      const [lineGap, rowPitch, pitch, lo, hi] = [33.3, 41.7, 52.1, 40.05, 880.3];
      const { rows, boxes, height } = bandRows(ends, lineGap, rowPitch, pitch, lo, hi);
      expect(height).toBe(2 * lineGap + rows * rowPitch);
      const rowY = Array.from({ length: rows }, (_, r) => -(lineGap + (r + 0.5) * rowPitch));
      const lines: Line[] = ends.map(([a, b]) => ({ a: [a, 0], b: [b, -height] }));
      expect(boxes).toEqual(placeInRows(lines, rowY, pitch, lo, hi)); // bit for bit
    }
  });

  it("sits every plot of the quickstart's model on its edge at any width", () => {
    for (const w of [900, 1400, 2400]) {
      const bw = layout(model([2, 5, 1]), { width: w }).bw;
      for (const off of offsets(model([2, 5, 1]), w)) expect(off).toBeLessThanOrEqual(bw / 2); // the line runs through the box
    }
  });

  it("keeps plots of a pruned big model within their edge's span, mostly on the line", () => {
    const s = model([8, 16, 16, 1]);
    const keep = (i: number): boolean => s.edges[i].l === 2 || (s.edges[i].i * 7 + s.edges[i].to * 3) % 5 === 0;
    const lay = layout(s, { width: 1400, hidden: (i) => !keep(i) });
    expect(lay.edges.length).toBeGreaterThan(60);
    for (const e of lay.edges) {
      expect(e.bx).toBeGreaterThanOrEqual(Math.min(e.a[0], e.b[0]) - lay.bw / 2);
      expect(e.bx).toBeLessThanOrEqual(Math.max(e.a[0], e.b[0]) + lay.bw / 2);
    }
    const off = offsets(s, 1400, (i) => !keep(i)).sort((p, q) => p - q);
    expect(off[Math.floor(off.length / 2)]).toBeLessThan(1);
  });

  it("spans the available width, small model or big", () => {
    for (const w of [800, 1600, 2400]) {
      expect(layout(model([2, 5, 1]), { width: w }).width).toBeCloseTo(w);
      expect(layout(model([8, 16, 16, 1]), { width: w }).width).toBeCloseTo(w);
    }
  });
});
