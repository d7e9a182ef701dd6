// Edge opacity and which edges count as faint. Opacity follows pykan: tanh(beta * score).
// On a large model (more than LARGE_MODEL drawn edges) the edges drawn at less than
// FAINT_OPACITY (score < ~0.033 at beta 3, near pykan's prune threshold 0.03) are hidden by
// default, so the edges that carry the function stand out; a control shows them again.

export const LARGE_MODEL = 64;
export const FAINT_OPACITY = 0.1;

/** Opacity of an edge from its attribution score, floored so it stays findable. */
export function edgeOpacity(score: number | undefined, beta: number): number {
  if (score == null || !Number.isFinite(score)) return 1;
  return Math.max(0.05, Math.tanh(beta * score));
}

/** Indices (among `indices`) whose opacity is below FAINT_OPACITY; empty without scores. */
export function faintEdges(indices: Iterable<number>, scores: ArrayLike<number> | undefined, beta: number): Set<number> {
  const out = new Set<number>();
  if (!scores) return out;
  for (const e of indices) {
    const s = scores[e];
    if (Number.isFinite(s) && Math.tanh(beta * s) < FAINT_OPACITY) out.add(e);
  }
  return out;
}
