// @vitest-environment jsdom
// After JupyterLab re-renders an output, the moved view's diagram goes back into the page a
// batch per animation frame (reattach.ts StagedEntry): no single task restyles all of it.
import { afterEach, describe, expect, it, vi } from "vitest";
import type { WidgetModel } from "./model";
import { ENTRY_BATCH, StagedEntry } from "./reattach";
import { FakeModel, bigState } from "./testing/fake";
import { encode } from "./codec";
import widget from "./widget";

const NS = "http://www.w3.org/2000/svg";

/** Manual animation frames: `frame()` runs the callbacks queued so far. */
function frames() {
  let queue = new Map<number, FrameRequestCallback>();
  let id = 0;
  vi.stubGlobal("requestAnimationFrame", (cb: FrameRequestCallback) => (queue.set(++id, cb), id));
  vi.stubGlobal("cancelAnimationFrame", (n: number) => queue.delete(n));
  return {
    frame(): void {
      const run = queue;
      queue = new Map();
      run.forEach((cb) => cb(0));
    },
    get pending(): number {
      return queue.size;
    },
  };
}

/** A root with layers of `n` children each (a <g> holding `kids` paths), in the page or not. */
function diagram(layers: number[], kids = 2, attach = true) {
  const root = document.createElement("div");
  const svg = document.createElementNS(NS, "svg");
  root.appendChild(svg);
  const gs = layers.map((n, l) => {
    const layer = document.createElementNS(NS, "g");
    for (let k = 0; k < n; k++) {
      const g = document.createElementNS(NS, "g");
      g.setAttribute("data-k", `${l}.${k}`);
      for (let p = 0; p < kids; p++) g.appendChild(document.createElementNS(NS, "path"));
      layer.appendChild(g);
    }
    svg.appendChild(layer);
    return layer;
  });
  if (attach) document.body.appendChild(root);
  return { root, layers: gs };
}

const keys = (layers: Element[]): string[] => layers.flatMap((l) => Array.from(l.children, (c) => c.getAttribute("data-k")!));

afterEach(() => {
  vi.unstubAllGlobals();
  document.body.replaceChildren();
});

describe("StagedEntry", () => {
  it("puts the layers back in order, at most one batch (+ one child) per frame", () => {
    const raf = frames();
    const { root, layers } = diagram([300, 500]); // 3 elements per child: 2400 in all
    const order = keys(layers);
    const done = vi.fn();
    const entry = new StagedEntry(root, layers, done);
    expect(keys(layers)).toEqual([]);
    expect(entry.waiting).toBe(2400);
    raf.frame(); // the first frame in the page styles the rest of the view
    expect(entry.waiting).toBe(2400);
    const counts: number[] = [];
    while (raf.pending) {
      const before = root.getElementsByTagName("*").length;
      raf.frame();
      counts.push(root.getElementsByTagName("*").length - before);
    }
    expect(counts).toEqual([600, 600, 600, 600]);
    expect(keys(layers)).toEqual(order);
    expect(entry.waiting).toBe(0);
    expect(done).toHaveBeenCalledTimes(1);
  });

  it("waits until the root is in the page", () => {
    const raf = frames();
    const { root, layers } = diagram([400], 2, false);
    const entry = new StagedEntry(root, layers);
    raf.frame();
    raf.frame();
    expect(entry.waiting).toBe(1200);
    document.body.appendChild(root);
    raf.frame();
    expect(entry.waiting).toBe(1200);
    raf.frame();
    expect(entry.waiting).toBe(600);
  });

  it("input inside the root, or finish(), puts everything back at once", () => {
    const raf = frames();
    const { root, layers } = diagram([400]);
    const order = keys(layers);
    const done = vi.fn();
    const entry = new StagedEntry(root, layers, done);
    raf.frame();
    raf.frame();
    expect(entry.waiting).toBe(600);
    root.querySelector("svg")!.dispatchEvent(new Event("pointerdown", { bubbles: true }));
    expect(entry.waiting).toBe(0);
    expect(keys(layers)).toEqual(order);
    expect(raf.pending).toBe(0);
    entry.finish(); // nothing left: no second `done`
    expect(done).toHaveBeenCalledTimes(1);
  });

  it("leaves layers of one batch or less in place", () => {
    const raf = frames();
    const { root, layers } = diagram([ENTRY_BATCH / 3]);
    const done = vi.fn();
    new StagedEntry(root, layers, done);
    expect(layers[0].children).toHaveLength(ENTRY_BATCH / 3);
    expect(raf.pending).toBe(0);
    expect(done).not.toHaveBeenCalled();
  });
});

/** A second proxy of the same model, as anywidget makes one per view. */
function proxy(m: FakeModel): WidgetModel {
  return {
    get: m.get.bind(m), set: m.set.bind(m), on: m.on.bind(m), off: m.off.bind(m),
    send: m.send.bind(m), save_changes: m.save_changes.bind(m),
  } as WidgetModel;
}

describe("re-rendered output of a big model", () => {
  it("moves the same view and its whole diagram back, a batch per frame; a redraw finishes it first", async () => {
    const model = new FakeModel(bigState());
    const out = document.createElement("div");
    const el = document.createElement("div");
    out.appendChild(el);
    document.body.appendChild(out);
    widget.render({ model: proxy(model), el });
    await new Promise((r) => setTimeout(r, 300)); // in the page, every plot drawn (slices)
    const root = el.querySelector(".kanwidget")!;
    const plots = (): string[] => Array.from(root.querySelectorAll("[data-edge]"), (g) => g.getAttribute("data-edge")!);
    const all = plots();
    const n = root.getElementsByTagName("*").length;
    expect(all).toHaveLength(150);
    expect(root.querySelectorAll(".kw-thumb-curve")).toHaveLength(150);
    // more than a batch: the layers go back over more than one frame
    expect(root.querySelectorAll(".kw-lines *, .kw-plots *").length).toBeGreaterThan(ENTRY_BATCH);
    const raf = frames();
    out.textContent = "Loading widget..."; // what JupyterLab does on update_display_data
    const next = document.createElement("div");
    widget.render({ model: proxy(model), el: next });
    out.textContent = "";
    out.appendChild(next);
    expect(next.querySelector(".kanwidget")).toBe(root); // not rebuilt
    expect(plots().length).toBeLessThan(150); // the diagram is still going back
    raf.frame();
    raf.frame();
    expect(plots().length).toBeGreaterThan(0);
    // a trait change before the end: every element is back before the diagram redraws
    model.set("beta", 4);
    await new Promise((r) => setTimeout(r, 0));
    expect(plots()).toEqual(all);
    expect(root.getElementsByTagName("*").length).toBe(n);
  });
});

describe("re-rendered output while the diagram changes", () => {
  it("an edge the diagram takes out during the staged entry stays out", async () => {
    const state = bigState();
    const nEdges = state.structure.edges.length;
    // every 3rd edge faint (score 1e-4 against 0.5 in its layer)
    const faint = new Set(Array.from({ length: nEdges }, (_, e) => e).filter((e) => e % 3 === 0));
    state.scores = { edge: encode(Array.from({ length: nEdges }, (_, e) => (faint.has(e) ? 1e-4 : 0.5))) };
    const model = new FakeModel(state);
    const out = document.createElement("div");
    const el = document.createElement("div");
    out.appendChild(el);
    document.body.appendChild(out);
    widget.render({ model: proxy(model), el });
    await new Promise((r) => setTimeout(r, 60));
    const root = el.querySelector(".kanwidget")!;
    const box = root.querySelector<HTMLInputElement>(".kw-hide-faint")!;
    const plots = (): string[] => Array.from(root.querySelectorAll("[data-edge]"), (g) => g.getAttribute("data-edge")!);
    expect(box.checked).toBe(true); // a large model hides its faint edges by default
    const strong = plots();
    expect(strong).toHaveLength(nEdges - faint.size);
    box.click(); // show them: every edge drawn
    expect(plots()).toHaveLength(nEdges);
    const raf = frames();
    out.textContent = "Loading widget...";
    const next = document.createElement("div");
    widget.render({ model: proxy(model), el: next });
    out.textContent = "";
    out.appendChild(next);
    raf.frame();
    raf.frame();
    expect(plots().length).toBeLessThan(nEdges); // still going back
    box.click(); // hide them again while the entry is staged (no pointer event: e.g. a script)
    for (let k = 0; k < 20; k++) raf.frame();
    expect(plots().sort()).toEqual([...strong].sort());
    expect(root.querySelectorAll(".kw-lines > *").length).toBe(strong.length);
  });
});
