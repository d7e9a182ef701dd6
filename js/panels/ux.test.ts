// @vitest-environment jsdom
// Issue 14's widget behaviour in the DOM: candidates only for their edge and version,
// controls that say why they are off, the Fit form, the loss label, keyboard access.
import { afterEach, describe, expect, it, vi } from "vitest";
import { encode } from "../codec";
import type { Candidate } from "../model";
import { FakeModel, edgeCurves, flush, smallState } from "../testing/fake";
import widget from "../widget";
import { leftMargin } from "./bigplot";
import { controls } from "./controls";
import { parseFit } from "./fitform";
import { fmtLoss, lossLabel } from "./format";

let cleanups: (() => void)[] = [];
afterEach(() => {
  cleanups.forEach((c) => c());
  cleanups = [];
  document.body.replaceChildren();
  vi.useRealTimers();
});

function mount(state = smallState(), extra: Record<string, unknown> = {}) {
  const model = new FakeModel(state);
  Object.assign(model, extra);
  const el = document.createElement("div");
  document.body.appendChild(el);
  cleanups.push(widget.render({ model, el }));
  return { model, el };
}

const q = (el: Element, sel: string) => el.querySelector(sel) as HTMLElement;
const rows = (el: Element) => Array.from(el.querySelectorAll<HTMLElement>("[data-candidate]"));
const button = (el: Element, a: string) => q(el, `[data-action="${a}"]`) as HTMLButtonElement;
const key = (target: Element, k: string) => {
  const e = new KeyboardEvent("keydown", { key: k, bubbles: true, cancelable: true });
  target.dispatchEvent(e);
  return e;
};
const tagged = (edge: number[], version: string, step: number | null = null): Candidate[] =>
  smallState().candidates.map((c) => ({ ...c, edge, version, step }));

describe("candidates (items 2, 3, 11)", () => {
  it("shows a loading state, never another edge's list, until this edge's arrives", async () => {
    const s = smallState();
    s.candidates = tagged([0, 0, 0], "1.1");
    const { el, model } = mount(s);
    expect(rows(el)).toHaveLength(3);
    q(el, '[data-edge="0,1,1"] .kw-thumb-bg').dispatchEvent(new MouseEvent("click", { bubbles: true }));
    // the kernel has moved its selection but still holds (0,0,0)'s list
    model.set("selected", [0, 1, 1]);
    await flush();
    expect(rows(el)).toHaveLength(0);
    expect(q(el, ".kw-candidate-list").dataset.state).toBe("loading");
    model.set("candidates", tagged([0, 1, 1], "1.1"));
    await flush();
    expect(rows(el)).toHaveLength(3);
    rows(el)[0].click();
    expect(model.sent.at(-1)).toEqual({ action: "symbolify", edge: [0, 1, 1], name: "sin" });
  });

  it("treats candidates of another version as stale, and marks mid-training ones", async () => {
    const s = smallState();
    s.candidates = tagged([0, 0, 0], "0.1");
    const { el, model } = mount(s);
    expect(rows(el)).toHaveLength(0); // drawn: version 1.1
    model.set("candidates", tagged([0, 0, 0], "1.1", 4));
    model.set("training", { state: "running", step: 9, steps: 50 });
    await flush();
    expect(rows(el)).toHaveLength(3);
    expect(q(el, ".kw-stale").textContent).toContain("step 4");
    model.set("training", { state: "idle", step: 50, steps: 50 });
    await flush();
    expect(rows(el)).toHaveLength(0); // the run ended: waiting for the recomputed list
  });

  it("says a constant edge has nothing to fit", async () => {
    const s = smallState();
    const flat = new Float32Array(8 * 21).fill(0.25);
    s.curves = { x: edgeCurves(8, 21).x, y: encode(flat, [8, 21]) };
    const { el } = mount(s);
    expect(rows(el)).toHaveLength(0);
    expect(q(el, ".kw-candidate-list").textContent).toContain("constant edge (≈ 0.25)");
    expect((q(el, ".kw-fix button") as HTMLButtonElement).disabled).toBe(true);
  });
});

describe("pruned edge and branching (items 4, 5)", () => {
  it("closes the inspector when its edge is pruned and ignores clicks on ghosted edges", async () => {
    const { el, model } = mount();
    const edges = model.state.structure.edges.map((e) => ({ ...e }));
    edges[0].active = false;
    model.set("structure", { ...model.state.structure, edges });
    await flush();
    expect(q(el, ".kw-inspector").hidden).toBe(true);
    expect(model.state.selected).toEqual([]);
    model.set("show_pruned", true);
    await flush();
    q(el, '[data-edge="0,0,0"] .kw-thumb-bg').dispatchEvent(new MouseEvent("click", { bubbles: true }));
    expect(q(el, ".kw-inspector").hidden).toBe(true);
    expect(model.sent.filter((a) => a.action === "select_edge")).toEqual([]);
  });

  it("branches from the highlighted version; a new version clears an old click", async () => {
    const { el, model } = mount();
    (q(el, '[data-version="0.1"]') as HTMLElement).click();
    expect(button(el, "rewind").textContent).toBe("branch from 0.1");
    // the checkout arrives, then an edit makes version 0.3 from it
    const h = model.state.history;
    model.set("history", { ...h, current: "0.1" });
    await flush();
    const v = { ...h.versions[1], id: "0.3", parent: "0.1", time: 9 };
    model.set("history", { versions: [...h.versions, v], current: "0.3" });
    await flush();
    expect(Array.from(el.querySelectorAll(".kw-version.kw-selected")).map((r) => (r as HTMLElement).dataset.version)).toEqual(["0.3"]);
    button(el, "rewind").click();
    expect(model.sent.at(-1)).toEqual({ action: "rewind", version: "0.3" });
  });
});

describe("toolbar (items 6, 8, 9, 11, 13, 30)", () => {
  it("labels the loss of the version drawn, saying which RMSE", async () => {
    const { el, model } = mount();
    expect(q(el, ".kw-spark-label tspan").textContent).toBe("test RMSE 0.110");
    model.set("history", { ...model.state.history, current: "0.2" });
    await flush();
    expect(q(el, ".kw-spark-label tspan").textContent).toBe("test RMSE 0.132");
    const v = smallState().history.versions;
    expect(lossLabel({ versions: v, current: "0.1" }, { state: "running", step: 3, steps: 9 }, [0.5, 0.25], [0.6, 0.3]).text).toBe("test RMSE 0.300");
    expect(lossLabel({ versions: [{ ...v[0], test_loss: null }], current: "0.0" }, undefined, undefined, undefined).text).toBe("train RMSE 1.00");
    expect(fmtLoss(0.018)).toBe("0.0180");
    expect(fmtLoss(1.67e-5)).toBe("1.67e-5");
  });

  it("shows the kernel's Fit options and sends what the form says", async () => {
    const { el, model } = mount();
    model.set("fit_args", { steps: 20, opt: "Adam", lr: 0.01, lamb: 0.001, update_grid: false, other: "batch=50" });
    await flush();
    expect((q(el, ".kw-steps") as HTMLInputElement).value).toBe("20");
    expect((q(el, ".kw-opt") as HTMLSelectElement).value).toBe("Adam");
    expect(q(el, ".kw-fit-form").title).toContain("batch=50");
    key(q(el, ".kw-lamb"), "Enter"); // Enter in a field starts Fit
    expect(model.sent).toEqual([{ action: "fit", steps: 20, opt: "Adam", lr: 0.01, lamb: 0.001, update_grid: false }]);
  });

  it("refuses bad steps in the UI, in the user's words", async () => {
    const { el, model } = mount();
    const steps = q(el, ".kw-steps") as HTMLInputElement;
    for (const bad of ["abc", "0", "-5", "2.6", "1e9", ""]) {
      steps.value = bad;
      steps.dispatchEvent(new Event("input"));
      expect(button(el, "fit").disabled).toBe(true);
      expect(q(el, ".kw-form-error").textContent).toBe("steps must be a whole number from 1 to 100000");
      expect(steps.getAttribute("aria-invalid")).toBe("true");
      button(el, "fit").click();
    }
    expect(model.sent).toEqual([]);
    expect(parseFit({ steps: "10", opt: "Adam", lr: "0", lamb: "0", update_grid: true }).error).toContain("learning rate");
    expect(parseFit({ steps: "10", opt: "Adam", lr: "1", lamb: "-1", update_grid: true }).field).toBe("lamb");
    expect(parseFit({ steps: "10", opt: "Adam", lr: "1e-2", lamb: "0", update_grid: true }).args?.lr).toBe(0.01);
  });

  it("disables Fit and Prune without a dataset or without edges, saying why", async () => {
    const s = smallState();
    s.samples = {};
    const { el, model } = mount(s);
    expect(button(el, "fit").disabled && button(el, "prune").disabled).toBe(true);
    expect(button(el, "fit").title).toContain("needs a dataset");
    const edges = model.state.structure.edges.map((e) => ({ ...e, active: false }));
    model.set("samples", smallState().samples);
    model.set("structure", { ...model.state.structure, edges });
    await flush();
    expect(button(el, "prune").disabled).toBe(true);
    expect(button(el, "prune").title).toContain("nothing to do");
    const c = controls({ link: "live", training: "idle", hasData: true, activeEdges: 3, fitPending: false, fitError: null });
    expect(c.fit.disabled || c.prune.disabled).toBe(false);
  });

  it("says idle after a run, not the last run's step count", async () => {
    const { el, model } = mount();
    model.set("training", { state: "idle", step: 3000, steps: 3000 });
    await flush();
    expect(q(el, ".kw-status").textContent).toBe("idle");
  });
});

describe("kernel link (item 7)", () => {
  function backbone(live: boolean) {
    return { comm_live: live, get: (_k: string) => undefined as unknown };
  }

  it("shows 'disconnected' and disables the controls when the comm dies", async () => {
    const s = smallState();
    s.training = { state: "running", step: 377, steps: 3000 }; // the kernel died mid-run
    const bb = backbone(true);
    bb.get = (k: string) => (k === "structure" ? s.structure : undefined);
    const { el, model } = mount(s, { widget_manager: { kernel: { status: "idle" }, _models: { a: Promise.resolve(bb) } } });
    await flush();
    expect(q(el, ".kw-link-note").hidden).toBe(true);
    bb.comm_live = false;
    (model as unknown as { listeners: Map<string, Set<() => void>> }).listeners.get("comm_live_update")!.forEach((cb) => cb());
    expect(q(el, ".kw-link-note").textContent).toContain("re-run the cell");
    expect(button(el, "fit").disabled && button(el, "prune").disabled && button(el, "rewind").disabled).toBe(true);
    expect(button(el, "fit").title).toContain("re-run the cell");
    expect(button(el, "stop").disabled).toBe(true);
    expect(q(el, ".kw-status").textContent).toBe("no kernel");
    expect(parseFloat(q(el, ".kw-progress-bar").style.width)).toBe(0);
    q(el, '[data-edge="0,1,1"] .kw-thumb-bg').dispatchEvent(new MouseEvent("click", { bubbles: true }));
    expect(model.sent.filter((a) => a.action === "select_edge")).toEqual([]);
  });

  it("says read-only copy in an export (a manager without a kernel)", async () => {
    const { el } = mount(smallState(), { widget_manager: { _models: {} } });
    await flush();
    await flush();
    expect(q(el, ".kw-link-note").textContent).toContain("Read-only copy");
    expect(el.querySelector(".kanwidget")!.getAttribute("data-link")).toBe("static");
  });

  it("notices a kernel that stops answering the heartbeat", async () => {
    vi.useFakeTimers();
    const { el, model } = mount();
    vi.advanceTimersByTime(5000);
    expect(model.sent.at(-1)).toEqual({ action: "ping" });
    vi.advanceTimersByTime(5000);
    expect(q(el, ".kw-link-note").textContent!.toLowerCase()).toContain("re-run the cell");
    expect(button(el, "fit").disabled).toBe(true);
    (model as unknown as { listeners: Map<string, Set<(m: unknown) => void>> }).listeners.get("msg:custom")!.forEach((cb) => cb({ pong: true }));
    expect(q(el, ".kw-link-note").hidden).toBe(true);
  });
});

describe("keyboard (items 12, 24) and layout (item 15)", () => {
  it("Enter in the function box fixes the edge and stays inside the widget", () => {
    const { el, model } = mount();
    const leaked: string[] = [];
    document.addEventListener("keydown", (e) => leaked.push(e.key));
    const input = q(el, ".kw-fn-input") as HTMLInputElement;
    input.value = "tanh";
    const e = key(input, "Enter");
    key(input, "a");
    expect(model.sent).toEqual([{ action: "symbolify", edge: [0, 0, 0], name: "tanh" }]);
    expect(e.defaultPrevented).toBe(true);
    expect(leaked).toEqual([]);
  });

  it("gives the diagram one Tab stop and moves with arrows; Enter inspects, Delete prunes", () => {
    const { el, model } = mount();
    const leaked: string[] = [];
    document.addEventListener("keydown", (e) => leaked.push(e.key));
    const stops = () => Array.from(el.querySelectorAll<HTMLElement>("[data-edge], [data-node]")).filter((x) => x.tabIndex === 0);
    expect(stops()).toHaveLength(1);
    expect(stops()[0].getAttribute("data-edge")).toBe("0,0,0"); // the selected edge
    stops()[0].focus();
    key(stops()[0], "ArrowRight");
    expect(document.activeElement!.getAttribute("data-edge")).toBe("0,0,1");
    expect(stops().map((x) => x.getAttribute("data-edge"))).toEqual(["0,0,1"]);
    key(document.activeElement!, "Enter");
    expect(model.sent.at(-1)).toEqual({ action: "select_edge", edge: [0, 0, 1] });
    key(document.activeElement!, "Delete");
    expect(model.sent.at(-1)).toEqual({ action: "prune_edge", edge: [0, 0, 1] });
    key(document.activeElement!, "Home");
    expect(document.activeElement!.getAttribute("data-node")).toBe("0,0");
    key(document.activeElement!, "Delete");
    expect(model.sent.at(-1)).toEqual({ action: "prune_node", node: [0, 0] });
    key(document.activeElement!, "Escape");
    expect(q(el, ".kw-inspector").hidden).toBe(true);
    expect(leaked).toEqual([]);
  });

  it("moves through versions and candidates with arrows; Enter checks out / applies", () => {
    const { el, model } = mount();
    const versions = Array.from(el.querySelectorAll<HTMLElement>("[data-version]"));
    expect(versions.filter((v) => v.tabIndex === 0).map((v) => v.dataset.version)).toEqual(["1.1"]);
    versions[3].focus();
    key(versions[3], "ArrowUp");
    expect((document.activeElement as HTMLElement).dataset.version).toBe("0.2");
    key(document.activeElement!, "Enter");
    expect(model.sent.at(-1)).toEqual({ action: "checkout", version: "0.2" });
    const cand = rows(el);
    expect(cand.every((r) => r.tabIndex === 0)).toBe(true);
    cand[0].focus();
    expect(q(el, ".kw-big-overlay").getAttribute("d")).toMatch(/^M/); // focus previews like hover
    key(cand[0], "ArrowDown");
    key(document.activeElement!, "Enter");
    expect(model.sent.at(-1)).toEqual({ action: "symbolify", edge: [0, 0, 0], name: "x^2" });
  });

  it("leaves room for the y labels of the inspector's plot", () => {
    expect(leftMargin(["-0.00596", "0.1"])).toBeGreaterThanOrEqual(8 * 6.2);
    const { el } = mount();
    const label = el.querySelectorAll(".kw-axis-label")[2];
    const x = Number(label.getAttribute("x"));
    expect(x - (label.textContent ?? "").length * 6.2).toBeGreaterThanOrEqual(0);
  });
});
