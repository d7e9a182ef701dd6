// How a wide input layer is drawn. Up to MAX_INPUTS inputs are always drawn one by one;
// beyond that, inputs with no drawn edge (all pruned, or hidden as faint) collapse into
// one "+N" node whose tooltip lists them, so a 30-input model shows the inputs that matter
// with their names and importance bars. Long names are cut to LABEL_CHARS (full name in
// the tooltip); labels that do not fit side by side are drawn at an angle (layout.ts).

export const MAX_INPUTS = 20;
export const LABEL_CHARS = 22;

/**
 * Split the inputs into those drawn one by one and those collapsed into one node.
 *
 * @param ids input node indices in model order
 * @param connected inputs with at least one drawn edge
 * @param expand never collapse (the user asked to see every input)
 * @returns `shown` (model order) and `collapsed` (model order); `collapsed` is empty when
 *   there are at most MAX_INPUTS inputs, or when collapsing would hide a single input only
 */
export function collapseInputs(
  ids: number[],
  connected: Set<number>,
  expand: boolean,
): { shown: number[]; collapsed: number[] } {
  if (expand || ids.length <= MAX_INPUTS) return { shown: ids, collapsed: [] };
  const shown = ids.filter((i) => connected.has(i));
  const collapsed = ids.filter((i) => !connected.has(i));
  if (collapsed.length < 2) return { shown: ids, collapsed: [] };
  return { shown, collapsed };
}

/** A label cut to LABEL_CHARS characters (with an ellipsis). */
export function labelText(name: string): string {
  return name.length > LABEL_CHARS ? name.slice(0, LABEL_CHARS - 1) + "…" : name;
}

/** Importance of each input as a fraction of the most important one (0..1); null without scores. */
export function importance(scores: ArrayLike<number> | undefined, n: number): number[] | null {
  if (!scores || scores.length < n || n === 0) return null;
  let max = 0;
  for (let i = 0; i < n; i++) if (Number.isFinite(scores[i])) max = Math.max(max, scores[i]);
  if (!(max > 0)) return null;
  return Array.from({ length: n }, (_, i) => (Number.isFinite(scores[i]) ? Math.max(0, scores[i]) / max : 0));
}
