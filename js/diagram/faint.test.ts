import { describe, expect, it } from "vitest";
import { edgeOpacity, FAINT_OPACITY, faintEdges, OPACITY_TOLERANCE, opacityMoved } from "./faint";

describe("faintEdges", () => {
  const layer = (e: number) => (e < 4 ? 0 : 1);

  it("are drawn under FAINT_OPACITY and weak against their layer's strongest edge", () => {
    const scores = [0.5, 0.01, 0.02, 0.001, 0.2, 0.03, 0.0001, 0.5];
    const faint = faintEdges(scores.keys(), scores, 3, layer);
    expect([...faint].sort()).toEqual([1, 2, 3, 5, 6]);
    for (const e of faint) expect(edgeOpacity(scores[e], 3)).toBeLessThan(FAINT_OPACITY);
  });

  it("keep the strongest edges of every layer when all scores are small", () => {
    const scores = [1e-5, 8e-6, 5e-7, 2e-6, 3e-6, 1e-7];
    const faint = faintEdges(scores.keys(), scores, 3, layer);
    expect([...faint].sort()).toEqual([2, 5]);
  });

  it("are none without scores, and follow beta", () => {
    expect(faintEdges([0, 1], undefined, 3, layer).size).toBe(0);
    const scores = [1, 0.05];
    expect(faintEdges(scores.keys(), scores, 3, layer).size).toBe(0); // tanh(0.15) > 0.1
    expect([...faintEdges(scores.keys(), scores, 1, layer)]).toEqual([1]); // tanh(0.05) < 0.1
  });
});

describe("opacityMoved", () => {
  it("redraws an edge first, then only once its opacity moved by OPACITY_TOLERANCE", () => {
    expect(opacityMoved(NaN, 0.5)).toBe(true); // never drawn
    expect(opacityMoved(0.5, 0.5 + 0.9 * OPACITY_TOLERANCE)).toBe(false);
    expect(opacityMoved(0.5, 0.5 - 0.9 * OPACITY_TOLERANCE)).toBe(false);
    expect(opacityMoved(0.5, 0.5 + OPACITY_TOLERANCE)).toBe(true);
    expect(opacityMoved(0.5, 0.5 - 1.1 * OPACITY_TOLERANCE)).toBe(true);
  });
});
