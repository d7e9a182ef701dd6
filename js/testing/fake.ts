// Test helpers: a fake anywidget model (get / set / on / off / send / save_changes) and
// the state of a small MultKAN [2, [1, 1], 1] as the kernel would sync it.
import { encode } from "../codec";
import type { Action, Edge, Model, Node, Version, WidgetModel } from "../model";

export class FakeModel implements WidgetModel {
  sent: Action[] = [];
  saves = 0;
  kernel = true; // false: send() throws like a widget without a kernel might
  private listeners = new Map<string, Set<() => void>>();

  constructor(public state: Model) {}

  get<K extends keyof Model>(key: K): Model[K] {
    return this.state[key];
  }

  set<K extends keyof Model>(key: K, value: Model[K]): void {
    this.state[key] = value;
    this.listeners.get(`change:${key}`)?.forEach((cb) => cb());
  }

  on(event: string, callback: () => void): void {
    if (!this.listeners.has(event)) this.listeners.set(event, new Set());
    this.listeners.get(event)!.add(callback);
  }

  off(event?: string | null, callback?: (() => void) | null): void {
    if (event && callback) this.listeners.get(event)?.delete(callback);
    else if (event) this.listeners.delete(event);
    else this.listeners.clear();
  }

  listenerCount(): number {
    let n = 0;
    this.listeners.forEach((s) => (n += s.size));
    return n;
  }

  send(content: Action): void {
    if (!this.kernel) throw new Error("no kernel");
    this.sent.push(content);
  }

  save_changes(): void {
    if (!this.kernel) throw new Error("no kernel");
    this.saves++;
  }
}

/** Let the widget apply coalesced trait changes. */
export const flush = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

/** Sample each edge's function f_e(x) = sin((e + 1) x) on P points of [-1, 1]. */
export function edgeCurves(nEdges: number, points: number, shift = 0) {
  const x = new Float32Array(nEdges * points);
  const y = new Float32Array(nEdges * points);
  for (let e = 0; e < nEdges; e++) {
    for (let p = 0; p < points; p++) {
      const t = -1 + (2 * p) / (points - 1);
      x[e * points + p] = t;
      y[e * points + p] = Math.sin((e + 1) * t + shift);
    }
  }
  return { x: encode(x, [nEdges, points]), y: encode(y, [nEdges, points]) };
}

/** Nodes and edges of a fully connected MultKAN of the given width ([n_sum, n_mult] per layer, arity 2). */
export function network(width: number[][]): { nodes: Node[]; edges: Edge[] } {
  const nodes: Node[] = [];
  const edges: Edge[] = [];
  width.forEach(([nSum, nMult], l) => {
    for (let i = 0; i < nSum + nMult; i++) {
      const kind = l === 0 ? "input" : l === width.length - 1 ? "output" : i < nSum ? "sum" : "mult";
      nodes.push({ l, i, kind, label: "" });
    }
    if (l === width.length - 1) return;
    const [outSum, outMult] = width[l + 1];
    const subnodes = outSum + 2 * outMult;
    for (let i = 0; i < nSum + nMult; i++) {
      for (let j = 0; j < subnodes; j++) {
        const to = j < outSum ? j : outSum + Math.floor((j - outSum) / 2);
        edges.push({ l, i, j, to, active: true, symbolic: null, formula: null });
      }
    }
  });
  return { nodes, edges };
}

const version = (id: string, parent: string | null, operation: string, loss: number, time: number): Version => ({
  id, parent, operation, train_loss: loss, test_loss: loss * 1.1, n_edges: 8, formula: null, time,
});

/** State of a [2, [1, 1], 1] model: 8 edges (one pruned, one symbolic), 5 nodes. */
export function smallState(): Model {
  const width = [[2, 0], [1, 1], [1, 0]];
  const { nodes, edges } = network(width);
  nodes[0].label = "x";
  nodes[1].label = "y";
  edges[3].active = false; // edge (0,1,0)
  Object.assign(edges[6], { symbolic: "sin", formula: "sin(3.14*x)" }); // edge (1,0,0)
  const E = edges.length;
  const P = 21;
  const S = 10;
  const sineCurve = edgeCurves(1, P);
  return {
    structure: { width, mult_arity: [[], [2], []], nodes, edges, in_vars: ["x", "y"], out_vars: ["f"] },
    curves: edgeCurves(E, P),
    samples: edgeCurves(E, S, 0.1),
    scores: { edge: encode(edges.map((_, e) => 0.1 * (e + 1))), node: encode(nodes.map(() => 1)) },
    loss: { train: encode([1, 0.5, 0.2, 0.1]), test: encode([1.1, 0.6, 0.3, 0.2]) },
    training: { state: "idle", step: 0, steps: 0 },
    selected: [0, 0, 0],
    candidates: [
      { name: "sin", r2: 0.998712, complexity: 2, params: [1, 0, 1, 0], formula: "sin(3.14*x)", curve: sineCurve },
      { name: "x^2", r2: 0.41, complexity: 2, params: [1, 0, 1, 0], formula: "1.0*x**2", curve: sineCurve },
      { name: "0", r2: 0, complexity: 0, params: [0, 0, 0, 0], formula: "0" },
    ],
    history: {
      versions: [
        version("0.0", null, "init", 1, 0),
        version("0.1", "0.0", "fit", 0.1, 1),
        version("0.2", "0.1", "prune", 0.12, 2),
        version("1.1", "0.1", "rewind", 0.1, 3),
      ],
      current: "1.1",
    },
    error: {},
    show_pruned: false,
    beta: 3,
    frames: {},
    fit_args: { steps: 50, opt: "LBFGS", lr: 1, lamb: 0, update_grid: true, other: "" },
    pareto: {},
  };
}

/** State of a layered model, [4, 10, 10, 1] by default (150 edges): edge e gets score
 * `score(e)` (all strong by default), input k node score k + 1. */
export function bigState(score: (e: number) => number = () => 0.5, width = [[4, 0], [10, 0], [10, 0], [1, 0]]): Model {
  const { nodes, edges } = network(width);
  const nIn = width[0][0];
  return Object.assign(smallState(), {
    structure: { width, mult_arity: width.map(() => []), nodes, edges, in_vars: [], out_vars: [] },
    curves: edgeCurves(edges.length, 21),
    samples: edgeCurves(edges.length, 10, 0.1),
    scores: { edge: encode(edges.map((_, e) => score(e))), node: encode(nodes.map((_, k) => (k < nIn ? k + 1 : 1))) },
    selected: [],
    candidates: [],
  });
}
