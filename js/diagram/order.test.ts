import { describe, expect, it } from "vitest";
import { crossings, orderNodes, totalCrossings, type Link } from "./order";

/** Deterministic pseudo-random numbers (mulberry32), so failures reproduce. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Crossings by definition: pairs with (u1 - u2)(v1 - v2) < 0. */
function bruteCrossings(pairs: [number, number][]): number {
  let n = 0;
  for (let a = 0; a < pairs.length; a++)
    for (let b = a + 1; b < pairs.length; b++)
      if ((pairs[a][0] - pairs[b][0]) * (pairs[a][1] - pairs[b][1]) < 0) n++;
  return n;
}

const identity = (sizes: number[]) => sizes.map((n) => Array.from({ length: n }, (_, i) => i));
const posOf = (order: number[][]) =>
  order.map((row) => {
    const p: number[] = [];
    row.forEach((node, k) => (p[node] = k));
    return p;
  });

function randomLayers(r: () => number, sizes: number[], density: number): Link[] {
  const links: Link[] = [];
  for (let l = 0; l + 1 < sizes.length; l++)
    for (let u = 0; u < sizes[l]; u++) for (let v = 0; v < sizes[l + 1]; v++) if (r() < density) links.push({ l, u, v });
  return links;
}

describe("crossings", () => {
  it("counts the pairs with opposite order on the two layers", () => {
    const r = rng(1);
    for (let t = 0; t < 50; t++) {
      const pairs: [number, number][] = Array.from({ length: 1 + Math.floor(r() * 40) }, () => [
        Math.floor(r() * 8),
        Math.floor(r() * 6),
      ]);
      expect(crossings(pairs, 6)).toBe(bruteCrossings(pairs));
    }
  });

  it("of a complete bipartite layer K(m, n) is C(m, 2) * C(n, 2) in any order", () => {
    const pairs: [number, number][] = [];
    for (let u = 0; u < 4; u++) for (let v = 0; v < 5; v++) pairs.push([u, v]);
    expect(crossings(pairs, 5)).toBe(6 * 10);
  });
});

describe("orderNodes", () => {
  it("never has more crossings than the model's order on random layered graphs", () => {
    const r = rng(7);
    let strictly = 0;
    for (let t = 0; t < 60; t++) {
      const sizes = Array.from({ length: 2 + Math.floor(r() * 3) }, () => 2 + Math.floor(r() * 9));
      const links = randomLayers(r, sizes, 0.15 + 0.5 * r());
      const before = totalCrossings(links, posOf(identity(sizes)));
      const order = orderNodes(sizes, links);
      order.forEach((row, l) => expect([...row].sort((a, b) => a - b)).toEqual(identity(sizes)[l]));
      const after = totalCrossings(links, posOf(order));
      expect(after).toBeLessThanOrEqual(before);
      if (after < before) strictly++;
    }
    expect(strictly).toBeGreaterThan(30); // sparse random layers nearly always improve
  });

  it("untangles a permuted matching to zero crossings", () => {
    const perm = [3, 0, 4, 1, 2];
    const links = perm.map((v, u) => ({ l: 0, u, v }));
    expect(totalCrossings(links, posOf(identity([5, 5])))).toBeGreaterThan(0);
    const order = orderNodes([5, 5], links);
    expect(totalCrossings(links, posOf(order))).toBe(0);
  });

  it("keeps index order when no order is better (fully connected layers)", () => {
    const links = randomLayers(() => 0, [3, 4, 2], 1);
    expect(orderNodes([3, 4, 2], links)).toEqual(identity([3, 4, 2]));
  });
});
