// Synced state: the traits of kanwidget/widget/widget.py, as the front end sees them.
// The keys of `Model` must equal the Python synced trait names (a test checks this);
// UI-only state (hover, drag, local selection) lives in the view modules, never here.
// Contract: docs/widget_contract.md.

/** A binary array on the wire: `{view, dtype, shape}` (see codec.ts). */
export interface Arr {
  view: DataView | ArrayBuffer | ArrayBufferView | number[];
  dtype: string;
  shape: number[];
}

export type NodeKind = "input" | "sum" | "mult" | "output";

/** A node of the diagram; `nodes` are ordered by layer, then index. */
export interface Node {
  l: number;
  i: number;
  kind: NodeKind;
  label: string;
}

/** Edge (l, i, j): layer l, input node i, output subnode j, feeding node `to` of layer l+1. */
export interface Edge {
  l: number;
  i: number;
  j: number;
  to: number;
  active: boolean;
  symbolic: string | null;
  formula: string | null;
}

export interface Structure {
  width: number[][];
  mult_arity: number[][];
  nodes: Node[];
  edges: Edge[];
  in_vars: string[];
  out_vars: string[];
}

/** `x`, `y`: (E, P) for the sampled edge functions or (E, S) for the activation samples. */
export interface EdgeArrays {
  x?: Arr;
  y?: Arr;
}

export interface Scores {
  edge?: Arr;
  node?: Arr;
}

export interface Loss {
  train?: Arr;
  test?: Arr;
}

export interface Training {
  state: "idle" | "running" | "paused";
  step: number;
  steps: number;
}

export interface Candidate {
  name: string;
  r2: number;
  complexity: number;
  params: number[];
  formula: string;
  curve?: { x?: Arr; y?: Arr };
  /** What the candidate was computed for: edge [l, i, j], model version, training step (null when idle). */
  edge?: number[];
  version?: string;
  step?: number | null;
}

/** What the toolbar's Fit uses (`model.fit`'s names); `other`: further arguments reused, as text. */
export interface FitArgs {
  steps: number;
  opt: "LBFGS" | "Adam";
  lr: number;
  lamb: number;
  update_grid: boolean;
  other?: string;
}

export interface Version {
  id: string;
  parent: string | null;
  operation: string;
  train_loss: number | null;
  test_loss: number | null;
  n_edges: number;
  formula: string | null;
  time: number;
}

export interface History {
  versions: Version[];
  current: string;
}

/** One version's drawn data (kanwidget/widget/frames.py): shown locally without a kernel. */
export interface Frame {
  structure: Structure;
  curves: { range?: Arr; y?: Arr };
  samples: EdgeArrays;
  scores: Scores;
  loss: Loss;
}

export interface WidgetError {
  message?: string;
  seq?: number;
  /** "info": a notice of what an action did (not a failure). */
  level?: "info";
}

/** Pareto panel points (kanwidget/widget/pareto.py); `{}` = no panel. Per point k:
 * complexity[k], error[k] (held-out RMSE), formula[k] (text), latex[k], universe[k] (a
 * version id in `history`, or null), front[k]; `best` is an index or -1. */
export interface Pareto {
  complexity?: Arr;
  error?: Arr;
  formula?: string[];
  latex?: string[];
  universe?: (string | null)[];
  front?: boolean[];
  best?: number;
  labels?: { complexity?: string; error?: string };
}

/** One key per synced trait of KANWidget (same names, same meaning). */
export interface Model {
  structure: Structure;
  curves: EdgeArrays;
  samples: EdgeArrays;
  scores: Scores;
  loss: Loss;
  training: Training;
  selected: number[];
  candidates: Candidate[];
  history: History;
  error: WidgetError;
  show_pruned: boolean;
  beta: number;
  frames: Record<string, Frame>;
  fit_args: FitArgs;
  pareto: Pareto;
}

/** The synced trait names, checked against `Model` at compile time (all keys, no extras). */
export const TRAIT_NAMES = Object.keys({
  structure: 1, curves: 1, samples: 1, scores: 1, loss: 1, training: 1,
  selected: 1, candidates: 1, history: 1, error: 1, show_pruned: 1, beta: 1, frames: 1, fit_args: 1, pareto: 1,
} satisfies Record<keyof Model, 1>) as (keyof Model)[];

/** Messages the browser sends (validated in Python). */
export type Action =
  | { action: "select_edge"; edge: number[] }
  | { action: "symbolify"; edge: number[]; name: string }
  | { action: "prune_edge"; edge: number[] }
  | { action: "prune_node"; node: number[] }
  | { action: "prune" }
  | { action: "fit"; steps: number; opt?: FitArgs["opt"]; lr?: number; lamb?: number; update_grid?: boolean }
  | { action: "pause" }
  | { action: "resume" }
  | { action: "stop" }
  | { action: "checkout"; version: string }
  | { action: "rewind"; version: string }
  | { action: "preview"; edge: number[] }
  | { action: "ping" };

/** The part of anywidget's model the front end uses (a structural subset of AnyModel). */
export interface WidgetModel {
  get<K extends keyof Model>(key: K): Model[K];
  set<K extends keyof Model>(key: K, value: Model[K]): void;
  on(event: string, callback: () => void): void;
  off(event?: string | null, callback?: (() => void) | null): void;
  send(content: Action): void;
  save_changes(): void;
}
