// Edge opacity and which edges count as faint. Opacity follows pykan: tanh(beta * score).
// On a large model (more than LARGE_MODEL drawn edges) the faint edges are hidden by
// default, so the edges that carry the function stand out; a control shows them again.
// Faint = drawn at less than FAINT_OPACITY (score < ~0.033 at beta 3, near pykan's prune
// threshold 0.03) and below FAINT_RELATIVE of the strongest edge of its layer: a model
// whose scores are all small still shows its strongest edges in every layer.

export const LARGE_MODEL = 64;
export const FAINT_OPACITY = 0.1;
export const FAINT_RELATIVE = 0.1;

/** Opacity of an edge from its attribution score, floored so it stays findable. */
export function edgeOpacity(score: number | undefined, beta: number): number {
  if (score == null || !Number.isFinite(score)) return 1;
  return Math.max(0.05, Math.tanh(beta * score));
}

/** How far the drawn opacity may lag the score's: a training frame rewrites (and restyles)
 * only the edges whose opacity moved this much since it was last drawn, not every edge whose
 * score moved a little. */
export const OPACITY_TOLERANCE = 0.02;

/** Whether an edge drawn at opacity `drawn` (NaN: never drawn) must be drawn again at `now`. */
export function opacityMoved(drawn: number, now: number): boolean {
  return !(Math.abs(now - drawn) < OPACITY_TOLERANCE);
}

/**
 * The faint edges among `indices` (see above); empty without scores.
 *
 * @param layerOf layer of edge `e` (the relative test compares edges of one layer)
 */
export function faintEdges(
  indices: Iterable<number>,
  scores: ArrayLike<number> | undefined,
  beta: number,
  layerOf: (e: number) => number,
): Set<number> {
  const out = new Set<number>();
  if (!scores) return out;
  const list = Array.from(indices);
  const top = new Map<number, number>();
  for (const e of list) {
    const s = scores[e];
    if (Number.isFinite(s)) top.set(layerOf(e), Math.max(top.get(layerOf(e)) ?? 0, s));
  }
  for (const e of list) {
    const s = scores[e];
    if (!Number.isFinite(s)) continue;
    if (Math.tanh(beta * s) < FAINT_OPACITY && s < FAINT_RELATIVE * (top.get(layerOf(e)) ?? 0)) out.add(e);
  }
  return out;
}
