// Times the real widget bundle in a real browser on states built by bench_render.py from real
// models (curves, activations and attribution scores): the first render on a cold page,
// repeated renders, a live update (curves + samples + scores, as one training frame), hover,
// and a stream of training frames at 10/s watched by a long-task observer.
import { FakeModel } from "../../js/testing/fake";
import type { Model } from "../../js/model";
import widget from "../../js/widget";

type Json = Record<string, unknown>;
interface Case {
  name: string;
  state: Json;
  frames: Json[]; // alternative curves / samples / scores, as training would send them
}
interface Result {
  name: string;
  edges: number;
  shown: number;
  first: number;
  firstFrame: number;
  coldAll: number; // from the cold render until its last slice of plots is drawn
  coldLong: number[]; // long tasks (wall) from the cold render until then, the render's own included
  renders: number[];
  updates: number[];
  settled: number[]; // from a training frame until its last slice of plots is drawn
  hovers: number[];
  frameScript: number[];
  longTasks: number[];
  width: number;
  height: number;
}

/** base64 arrays -> DataView, as the kernel delivers them. */
function revive(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(revive);
  if (v && typeof v === "object") {
    const o = v as Json;
    if (typeof o.b64 === "string") {
      const bin = atob(o.b64);
      const bytes = new Uint8Array(bin.length);
      for (let k = 0; k < bin.length; k++) bytes[k] = bin.charCodeAt(k);
      return { view: new DataView(bytes.buffer), dtype: o.dtype, shape: o.shape };
    }
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, revive(x)]));
  }
  return v;
}

const nextFrame = (): Promise<void> => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

/** The state as the widget receives it (arrays decoded before the render, as ipywidgets does). */
const stateOf = (c: Case): Model => revive(structuredClone(c.state)) as Model;

function mount(state: Model): { ms: number; el: HTMLElement; model: FakeModel; t0: number } {
  const el = document.createElement("div");
  document.body.appendChild(el);
  const model = new FakeModel(state);
  const t0 = performance.now();
  widget.render({ model, el } as never);
  void el.getBoundingClientRect(); // include style and layout
  return { ms: performance.now() - t0, el, model, t0 };
}

/** Wait until an animation frame passes with no plot path written or added (a plot's paths
 * are made when it is first drawn); the time of the last write. */
async function quiet(svgEl: Element, t0: number): Promise<number> {
  let changed = true;
  const mo = new MutationObserver(() => (changed = true));
  mo.observe(svgEl, { attributes: true, attributeFilter: ["d"], subtree: true, childList: true });
  let last = performance.now();
  while (changed) {
    changed = false;
    last = performance.now();
    await nextFrame();
  }
  mo.disconnect();
  return last - t0;
}

async function run(c: Case): Promise<Result> {
  const state = stateOf(c);
  await tick(); // decoding is not the render: the cold render is a task of its own
  const coldLong: number[] = [];
  const coldObs = new PerformanceObserver((list) => list.getEntries().forEach((e) => coldLong.push(e.duration)));
  coldObs.observe({ type: "longtask", buffered: false });
  performance.mark("kw-cold"); // the trace's CPU time of this task is reported (trace_cpu.py)
  const first = mount(state);
  await nextFrame();
  const firstFrame = performance.now() - first.t0;
  // the first render draws a slice of plots, the rest in the next frames (js/diagram/redraw.ts)
  const coldAll = Math.max(firstFrame, await quiet(first.el.querySelector(".kw-svg")!, first.t0));
  performance.mark("kw-cold-end");
  await tick(); // the long-task observer reports after the task
  coldObs.disconnect();
  const renders: number[] = [];
  for (let i = 0; i < 10; i++) {
    const st = stateOf(c);
    await tick();
    const r = mount(st);
    renders.push(r.ms);
    r.el.remove();
    await tick();
  }
  const frames = c.frames.map((f) => revive(f) as Json);
  const apply = (m: FakeModel, f: Json): void => {
    for (const k of ["curves", "samples", "scores"] as const) m.set(k, f[k] as never);
  };
  const updates: number[] = [];
  performance.mark("kw-update-start");
  for (let i = 0; i < 10; i++) {
    const t0 = performance.now();
    apply(first.model, frames[i % frames.length]);
    await tick(); // the widget batches changes per tick
    void first.el.getBoundingClientRect();
    updates.push(performance.now() - t0);
  }
  performance.mark("kw-update-end");
  // a training frame redraws its plots in slices (js/diagram/redraw.ts): time until the last
  const settled: number[] = [];
  const svgEl = first.el.querySelector(".kw-svg")!;
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    apply(first.model, frames[i % frames.length]);
    await tick();
    settled.push(await quiet(svgEl, t0));
  }
  const plots = Array.from(first.el.querySelectorAll<SVGGElement>("[data-edge]")).filter((g) => g.style.display !== "none" && g.getAttribute("opacity") !== "0.000");
  const hovers: number[] = [];
  for (let i = 0; i < 10; i++) {
    const t0 = performance.now();
    plots[(i * 7) % plots.length].querySelector(".kw-thumb-bg")!.dispatchEvent(new MouseEvent("pointerover", { bubbles: true }));
    void first.el.getBoundingClientRect();
    hovers.push(performance.now() - t0);
  }
  first.el.querySelector(".kw-svg")!.dispatchEvent(new MouseEvent("pointerleave"));
  await nextFrame(); // the hover's end is restyled before the stream (hover is timed above)
  await nextFrame();
  // training stream: 30 frames, 100 ms apart; long tasks over the whole stream
  const longTasks: number[] = [];
  const obs = new PerformanceObserver((list) => list.getEntries().forEach((e) => longTasks.push(e.duration)));
  obs.observe({ type: "longtask", buffered: false });
  performance.mark("kw-stream-start");
  const frameScript: number[] = [];
  for (let i = 0; i < 30; i++) {
    const t0 = performance.now();
    apply(first.model, frames[i % frames.length]);
    await tick();
    frameScript.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 1200)); // scores settle: the faint edges are laid out again
  performance.mark("kw-stream-end");
  obs.disconnect();
  const svg = first.el.querySelector(".kw-svg")!;
  return {
    name: c.name,
    edges: ((c.state.structure as { edges?: unknown[] }).edges ?? []).length,
    shown: Array.from(first.el.querySelectorAll<SVGGElement>("[data-edge]")).filter((g) => g.style.display !== "none" && g.getAttribute("opacity") !== "0.000").length,
    first: first.ms,
    firstFrame,
    coldAll,
    coldLong,
    renders,
    updates,
    settled,
    hovers,
    frameScript,
    longTasks,
    width: Number(svg.getAttribute("width")),
    height: Number(svg.getAttribute("height")),
  };
}

async function main(): Promise<void> {
  const params = new URLSearchParams(location.search);
  const cases = (await (await fetch("states.json")).json()) as Case[];
  const c = cases.find((x) => x.name === params.get("case")) ?? cases[0];
  const w = window as unknown as { __result: Result; __shown: boolean };
  if (params.get("show")) {
    mount(stateOf(c));
    w.__shown = true;
    return;
  }
  w.__result = await run(c);
}

void main();
