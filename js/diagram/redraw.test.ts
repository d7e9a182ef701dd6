// @vitest-environment jsdom
// Training frames are updates, not rebuilds: the same DOM nodes get new paths, in slices of
// FRAME_PLOTS per task (more in an animation frame while its time lasts); a new structure
// shows its first slice (FIRST_PLOTS) at once and the rest in the next frames; the first
// layout waits for the width the page gives.
import { afterEach, describe, expect, it, vi } from "vitest";
import { encode } from "../codec";
import { FakeModel, bigState, edgeCurves, flush } from "../testing/fake";
import type { Model } from "../model";
import widget from "../widget";
import { FIRST_PLOTS, FRAME_PLOTS, MAX_SLICE, SLICE_MS } from "./redraw";

let cleanups: (() => void)[] = [];
afterEach(() => {
  cleanups.forEach((c) => c());
  cleanups = [];
  document.body.replaceChildren();
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

function mount(state: Model, attach = true) {
  const model = new FakeModel(state);
  const el = document.createElement("div");
  if (attach) document.body.appendChild(el);
  cleanups.push(widget.render({ model, el }));
  return { model, el };
}

/** Let the animation frames that draw the remaining slices run (fake or real timers). */
async function frames(ms = 200): Promise<void> {
  if (vi.isFakeTimers()) await vi.advanceTimersByTimeAsync(ms);
  else await new Promise((r) => setTimeout(r, ms));
}

/** Paths drawn so far (plots with a curve). */
const drawn = (el: Element): number => [...curves(el).values()].filter(([, d]) => d.startsWith("M")).length;

/** Curve path element and its `d` of every plot, by edge key (a plot's paths are made when it is first drawn). */
function curves(el: Element): Map<string, [Element | null, string]> {
  const out = new Map<string, [Element | null, string]>();
  el.querySelectorAll<SVGGElement>("[data-edge]").forEach((g) => {
    const p = g.querySelector(".kw-thumb-curve");
    out.set(g.dataset.edge!, [p, p?.getAttribute("d") ?? ""]);
  });
  return out;
}

/** The paths a fresh widget draws for `state` (what every plot must end up showing). */
async function drawnFresh(state: Model): Promise<Map<string, string>> {
  const { el } = mount(structuredClone(state));
  await frames();
  const out = new Map([...curves(el)].map(([k, [, d]]) => [k, d]));
  el.remove();
  return out;
}

describe("training frames", () => {
  it("rewrite the same path elements, FRAME_PLOTS per task, the rest in the next frames", async () => {
    vi.useFakeTimers();
    const state = bigState();
    const { el, model } = mount(state);
    await frames();
    const before = curves(el);
    expect(before.size).toBe(150);
    expect(150).toBeGreaterThan(2 * FRAME_PLOTS);
    const next = edgeCurves(150, 21, 0.7);
    const want = await drawnFresh({ ...state, curves: next });

    model.set("curves", next);
    await vi.advanceTimersByTimeAsync(0); // the coalesced update ran, no animation frame yet
    const now = curves(el);
    const changed = [...now].filter(([k, [, d]]) => d !== before.get(k)![1]);
    expect(changed).toHaveLength(FRAME_PLOTS);
    expect(changed.every(([k, [, d]]) => d === want.get(k))).toBe(true);

    await vi.advanceTimersByTimeAsync(100); // a few animation frames
    const after = curves(el);
    expect([...after].every(([k, [p, d]]) => p === before.get(k)![0] && d === want.get(k))).toBe(true);
    expect(el.querySelectorAll("[data-edge]")).toHaveLength(150); // nothing rebuilt
  });

  it("starve no plot: frames faster than the slices still end with the newest data everywhere", async () => {
    vi.useFakeTimers();
    const state = bigState();
    const { el, model } = mount(state);
    await frames();
    const before = curves(el);
    const want = await drawnFresh({ ...state, curves: edgeCurves(150, 21, 0.5) });
    for (let f = 1; f <= 5; f++) {
      model.set("curves", edgeCurves(150, 21, 0.1 * f));
      await vi.advanceTimersByTimeAsync(0); // no animation frame between two training frames
    }
    const first = curves(el);
    // each slice went on from where the previous one stopped: 5 slices reached every plot
    expect([...first].every(([k, [, d]]) => d !== before.get(k)![1])).toBe(true);
    expect([...first].filter(([k, [, d]]) => d === want.get(k))).toHaveLength(FRAME_PLOTS);
    await vi.advanceTimersByTimeAsync(100);
    expect([...curves(el)].every(([k, [, d]]) => d === want.get(k))).toBe(true);
  });

  it("draw a tail shorter than half a slice in the same task", async () => {
    vi.useFakeTimers();
    const state = bigState(undefined, [[4, 0], [6, 0], [2, 0], [1, 0]]); // 38 plots: 32 + a tail of 6
    const { el, model } = mount(state);
    await frames();
    expect(curves(el).size).toBe(38);
    expect(38).toBeGreaterThan(FRAME_PLOTS);
    expect(38).toBeLessThanOrEqual(1.5 * FRAME_PLOTS);
    const next = edgeCurves(38, 21, 0.4);
    const want = await drawnFresh({ ...state, curves: next });
    model.set("curves", next);
    await vi.advanceTimersByTimeAsync(0); // no animation frame
    expect([...curves(el)].every(([k, [, d]]) => d === want.get(k))).toBe(true);
  });

  it("draw the selected plot first", async () => {
    vi.useFakeTimers();
    const state = { ...bigState(), selected: [2, 9, 0] };
    const { el, model } = mount(state);
    await frames();
    const next = edgeCurves(150, 21, 0.3);
    const want = await drawnFresh({ ...state, curves: next });
    model.set("curves", next);
    await vi.advanceTimersByTimeAsync(0);
    expect(curves(el).get("2,9,0")![1]).toBe(want.get("2,9,0"));
  });

  it("a first render shows a slice of plots at once and every plot within the next frames", async () => {
    vi.useFakeTimers();
    const state = bigState();
    const want = await drawnFresh(state);
    expect([...want.values()].every((d) => d.startsWith("M"))).toBe(true);
    const { el } = mount(state);
    expect(curves(el).size).toBe(150); // every plot's box and line at once
    expect(drawn(el)).toBe(FIRST_PLOTS); // a new structure's first slice: half a slice
    let frame = 0;
    while (drawn(el) < 150 && frame++ < 10) {
      const n = drawn(el);
      await vi.advanceTimersByTimeAsync(17); // one animation frame: one more slice
      const slice = drawn(el) - n;
      // FRAME_PLOTS, more while the slice's time lasts (MAX_SLICE at most), or the rest
      expect(slice).toBeGreaterThanOrEqual(Math.min(FRAME_PLOTS, 150 - n));
      expect(slice).toBeLessThanOrEqual(Math.max(MAX_SLICE, 1.5 * FRAME_PLOTS));
    }
    expect(frame).toBeLessThanOrEqual(Math.ceil((150 - FIRST_PLOTS) / FRAME_PLOTS));
    expect([...curves(el)].every(([k, [, d]]) => d === want.get(k))).toBe(true);
  });

  it("filling in a new structure, a slice in an animation frame goes on while its time lasts; training frames do not", async () => {
    vi.useFakeTimers();
    const state = bigState();
    const perFrame = async (el: Element, first: number): Promise<number[]> => {
      const out = [first];
      while (out.reduce((a, b) => a + b) < 150 && out.length < 12) {
        const n = drawn(el);
        await vi.advanceTimersByTimeAsync(17);
        out.push(drawn(el) - n);
      }
      return out;
    };
    const mountWith = async (clock: () => number): Promise<{ el: Element; model: FakeModel; slices: number[] }> => {
      vi.spyOn(performance, "now").mockImplementation(clock);
      const { el, model } = mount(structuredClone(state));
      return { el, model, slices: await perFrame(el, drawn(el)) };
    };
    // a clock that stands still (fast slices): MAX_SLICE plots per frame after the first task's FIRST_PLOTS
    expect(MAX_SLICE).toBeGreaterThan(FRAME_PLOTS);
    const fast = await mountWith(() => 0);
    expect(fast.slices).toEqual([FIRST_PLOTS, MAX_SLICE, MAX_SLICE, 150 - FIRST_PLOTS - 2 * MAX_SLICE]);
    // then a training frame (every plot drawn once): FRAME_PLOTS per task, however fast
    const before = new Map([...curves(fast.el)].map(([k, [, d]]) => [k, d]));
    const changed = () => [...curves(fast.el)].filter(([k, [, d]]) => d !== before.get(k)).length;
    fast.model.set("curves", edgeCurves(150, 21, 0.9));
    await vi.advanceTimersByTimeAsync(0);
    const counts = [changed()];
    for (let f = 0; f < 3; f++) {
      await vi.advanceTimersByTimeAsync(17);
      counts.push(changed());
    }
    expect(counts).toEqual([1, 2, 3, 4].map((f) => f * FRAME_PLOTS));
    vi.restoreAllMocks();
    fast.el.remove();
    // a clock that runs out at once (a loaded machine): FRAME_PLOTS per frame, the last with a short tail
    let t = 0;
    const slow = await mountWith(() => (t += 2 * SLICE_MS));
    const tail = 150 - FIRST_PLOTS - 3 * FRAME_PLOTS;
    expect(tail).toBeLessThanOrEqual(1.5 * FRAME_PLOTS);
    expect(slow.slices).toEqual([FIRST_PLOTS, FRAME_PLOTS, FRAME_PLOTS, FRAME_PLOTS, tail]);
  });

  it("a new structure (a prune) is drawn in slices too, and its edges get keyboard stops", async () => {
    const state = bigState();
    const { el, model } = mount(state);
    await frames();
    const edges = state.structure.edges.map((e, k) => ({ ...e, active: k !== 0 }));
    const pruned = { ...state.structure, edges };
    const next = edgeCurves(150, 21, 0.2);
    const want = await drawnFresh({ ...state, structure: pruned, curves: next });
    model.set("structure", pruned);
    model.set("curves", next);
    await flush();
    expect(drawn(el)).toBe(FIRST_PLOTS);
    await frames();
    const now = curves(el);
    expect(now.size).toBe(149);
    expect(now.has("0,0,0")).toBe(false);
    expect([...now].every(([k, [, d]]) => d === want.get(k))).toBe(true);
    const plots = Array.from(el.querySelectorAll<SVGGElement>("[data-edge]"));
    expect(plots.every((g) => g.getAttribute("aria-label") === `edge ${g.dataset.edge}`)).toBe(true);
    expect(plots.filter((g) => g.tabIndex === 0).length + el.querySelectorAll('[data-node][tabindex="0"]').length).toBe(1);
  });
});

describe("plot paths", () => {
  it("are written in the plot box's own pixels with one decimal, spanning the box inside its padding", async () => {
    const { el } = mount(bigState());
    await frames();
    for (const g of el.querySelectorAll<SVGGElement>("[data-edge]")) {
      const bg = g.querySelector(".kw-thumb-bg")!;
      const [bw, bh] = [Number(bg.getAttribute("width")), Number(bg.getAttribute("height"))];
      const d = g.querySelector(".kw-thumb-curve")!.getAttribute("d")!;
      const xy = d.split(/[ML]/).filter(Boolean).map((p) => p.split(" ").map(Number));
      expect(xy).toHaveLength(21); // one vertex per curve point
      expect(d.match(/\d+\.\d{2,}/)).toBeNull(); // at most one decimal
      const xs = xy.map(([x]) => x);
      const ys = xy.map(([, y]) => y);
      expect(Math.min(...xs)).toBeCloseTo(2, 1); // PAD
      expect(Math.max(...xs)).toBeCloseTo(bw - 2, 1);
      expect(Math.min(...ys)).toBeGreaterThanOrEqual(2 - 0.05);
      expect(Math.max(...ys)).toBeLessThanOrEqual(bh - 2 + 0.05);
    }
    expect(el.querySelector("[data-edge] g")).toBeNull(); // no inner group: one transform per plot
  });
});

describe("scores during training", () => {
  const opacity = (el: Element, key: string) => Number(el.querySelector(`[data-edge="${key}"]`)!.getAttribute("opacity"));
  const setScores = (model: FakeModel, score: (e: number) => number) =>
    model.set("scores", { ...model.state.scores, edge: encode(model.state.structure.edges.map((_, e) => score(e))) });

  it("hide a plot in place at opacity 0 and give it its own opacity when shown again", async () => {
    const { el, model } = mount(bigState()); // every score 0.5
    setScores(model, (e) => (e % 3 === 0 ? 0.4 : 0.001)); // two in three turn faint: hidden in place
    await flush();
    expect(opacity(el, "0,0,0")).toBeCloseTo(Math.tanh(1.2), 3);
    expect(el.querySelector<SVGGElement>('[data-edge="0,0,1"]')!.isConnected).toBe(true); // still laid out
    expect(opacity(el, "0,0,1")).toBe(0);
    setScores(model, () => 0.2);
    await flush();
    expect(opacity(el, "0,0,1")).toBeCloseTo(Math.tanh(0.6), 3);
    const line = el.querySelector('[data-line="0,0,1"]')!;
    expect(Number(line.getAttribute("stroke-opacity"))).toBeCloseTo(Math.tanh(0.6), 3);
  });

  it("rewrite an edge's opacity only once it moved by OPACITY_TOLERANCE", async () => {
    const { el, model } = mount(bigState()); // every score 0.5
    let written = 0;
    const writes = new MutationObserver((records) => (written += records.length));
    writes.observe(el, { attributes: true, attributeFilter: ["opacity", "stroke-opacity"], subtree: true });
    setScores(model, () => 0.501); // tanh(1.503) - tanh(1.5) ~ 0.0003: nothing to redraw
    await flush();
    expect(written).toBe(0);
    expect(opacity(el, "0,0,0")).toBeCloseTo(Math.tanh(1.5), 3);
    setScores(model, (e) => (e === 0 ? 0.3 : 0.501)); // one edge moved: its plot and line only
    await flush();
    expect(written).toBe(2);
    expect(opacity(el, "0,0,0")).toBeCloseTo(Math.tanh(0.9), 3);
    writes.disconnect();
  });

  it("write an edge's tooltip when the pointer reaches it, with the score of then", async () => {
    const { el, model } = mount(bigState());
    const plot = el.querySelector('[data-edge="1,2,3"]')!;
    expect(plot.querySelector("title")).toBeNull(); // no tooltip written per frame
    setScores(model, () => 0.25);
    await flush();
    plot.querySelector(".kw-thumb-bg")!.dispatchEvent(new MouseEvent("pointerover", { bubbles: true }));
    expect(plot.querySelector("title")!.textContent).toContain("edge (1,2,3)");
    expect(plot.querySelector("title")!.textContent).toContain("score 0.250");
    expect(plot.firstElementChild!.tagName).toBe("title");
  });
});

describe("first layout", () => {
  it("waits for the width the page reports, then lays out once at that width", () => {
    const observers: ((entries: { contentRect: { width: number } }[]) => void)[] = [];
    vi.stubGlobal(
      "ResizeObserver",
      class {
        constructor(cb: (entries: { contentRect: { width: number } }[]) => void) {
          observers.push(cb);
        }
        observe(): void {}
        disconnect(): void {}
      },
    );
    const { el } = mount(bigState(), false); // JupyterLab places the output after render()
    expect(el.querySelectorAll("[data-edge]")).toHaveLength(0);
    document.body.appendChild(el);
    observers.forEach((cb) => cb([{ contentRect: { width: 1200 } }]));
    const box = el.querySelector(".kw-svg")!.getAttribute("viewBox")!.split(" ").map(Number);
    expect(box[2]).toBe(1200); // the drawing spans the reported width
    expect(el.querySelectorAll("[data-edge]")).toHaveLength(150);
    expect(el.querySelector<SVGGElement>("[data-edge]")!.querySelector(".kw-thumb-curve")!.getAttribute("d")).toMatch(/^M/);
  });
});
