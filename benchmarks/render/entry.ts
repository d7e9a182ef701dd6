// Times the real widget bundle in a real browser: a 300-edge model rendered from synced
// state (first render, repeated renders) and a live curve update. Built by bench_render.py.
import { encode } from "../../js/codec";
import { edgeCurves, FakeModel, network, smallState } from "../../js/testing/fake";
import widget from "../../js/widget";

type Result = { first: number; renders: number[]; updates: number[]; edges: number };

function state() {
  const width = [[10, 0], [20, 0], [5, 0]];
  const { nodes, edges } = network(width);
  const s = smallState();
  Object.assign(s, {
    structure: { width, mult_arity: [[], [], []], nodes, edges, in_vars: [], out_vars: [] },
    curves: edgeCurves(300, 48),
    samples: edgeCurves(300, 48, 0.2),
    scores: { edge: encode(edges.map(() => 0.5)) },
    selected: [],
    candidates: [],
  });
  return s;
}

function renderOnce(): { ms: number; el: HTMLElement; model: FakeModel } {
  const el = document.createElement("div");
  document.body.appendChild(el);
  const model = new FakeModel(state());
  const t0 = performance.now();
  widget.render({ model, el } as never);
  void el.getBoundingClientRect(); // include style and layout
  return { ms: performance.now() - t0, el, model };
}

async function run(): Promise<Result> {
  const first = renderOnce();
  const renders: number[] = [];
  for (let i = 0; i < 10; i++) {
    const r = renderOnce();
    renders.push(r.ms);
    r.el.remove();
  }
  const updates: number[] = [];
  for (let i = 0; i < 10; i++) {
    const t0 = performance.now();
    first.model.set("curves", edgeCurves(300, 48, 0.01 * (i + 1)));
    await new Promise((r) => setTimeout(r, 0)); // the widget batches changes per tick
    void first.el.getBoundingClientRect();
    updates.push(performance.now() - t0);
  }
  return { first: first.ms, renders, updates, edges: first.el.querySelectorAll("[data-edge]").length };
}

run().then((r) => ((window as unknown as { __result: Result }).__result = r));
