// @vitest-environment jsdom
import { afterEach, describe, expect, it } from "vitest";
import { encode } from "./codec";
import { TRAIT_NAMES } from "./model";
import { fmtLoss } from "./panels/format";
import { FakeModel, edgeCurves, flush, network, smallState } from "./testing/fake";
import widget from "./widget";

let cleanups: (() => void)[] = [];
afterEach(() => {
  cleanups.forEach((c) => c());
  cleanups = [];
  document.body.replaceChildren();
});

function mount(state = smallState()) {
  const model = new FakeModel(state);
  const el = document.createElement("div");
  document.body.appendChild(el);
  cleanups.push(widget.render({ model, el }));
  return { model, el };
}

const q = (el: Element, sel: string) => el.querySelector(sel) as HTMLElement & SVGElement;
const all = (el: Element, sel: string) => el.querySelectorAll(sel);
const pointer = (type: string, target: EventTarget, x: number, y: number) =>
  target.dispatchEvent(new MouseEvent(type, { bubbles: true, clientX: x, clientY: y, button: 0 }));

describe("render", () => {
  it("draws one element per edge, node, candidate and version", () => {
    const { el } = mount();
    expect(all(el, "[data-edge]")).toHaveLength(7); // edge (0,1,0) is pruned and hidden
    expect(all(el, "[data-node]")).toHaveLength(5);
    expect(all(el, "[data-candidate]")).toHaveLength(3);
    expect(all(el, "[data-version]")).toHaveLength(4);
    expect(q(el, '[data-node="1,1"]').classList.contains("kw-mult")).toBe(true);
    expect(q(el, '[data-edge="1,0,0"] .kw-thumb-label').textContent).toBe("sin");
    expect(Array.from(all(el, ".kw-node-label")).map((t) => t.textContent)).toEqual(["x", "y", "f"]);
  });

  it("draws each thumbnail's curve and samples", () => {
    const { el } = mount();
    const d = q(el, '[data-edge="0,0,0"] .kw-thumb-curve').getAttribute("d")!;
    expect(d.startsWith("M")).toBe(true);
    expect(d.split("L")).toHaveLength(21);
    expect(q(el, '[data-edge="0,0,0"] .kw-thumb-dots').getAttribute("d")!.split("M")).toHaveLength(11);
  });

  it("sets edge opacity to tanh(beta * score)", async () => {
    const { el, model } = mount();
    expect(Number(q(el, '[data-edge="0,0,0"]').getAttribute("opacity"))).toBeCloseTo(Math.tanh(0.3), 3);
    model.set("beta", 10);
    await flush();
    expect(Number(q(el, '[data-edge="0,0,0"]').getAttribute("opacity"))).toBeCloseTo(Math.tanh(1), 3);
    model.set("scores", {});
    await flush();
    expect(q(el, '[data-edge="0,0,0"]').getAttribute("opacity")).toBe("1.000");
  });

  it("renders from empty state without crashing", () => {
    const empty = {
      structure: {}, curves: {}, samples: {}, scores: {}, loss: {}, training: {}, selected: [],
      candidates: [], history: {}, error: {}, show_pruned: false, beta: 3,
    } as never;
    const { el } = mount(empty);
    expect(all(el, "[data-edge]")).toHaveLength(0);
    expect(q(el, ".kw-inspector").hidden).toBe(true);
  });

  it("updates curves in place and rebuilds only on a new structure", async () => {
    const { el, model } = mount();
    const group = q(el, '[data-edge="0,0,0"]');
    const before = q(el, '[data-edge="0,0,0"] .kw-thumb-curve').getAttribute("d");
    model.set("curves", edgeCurves(8, 21, 1.0));
    await flush();
    expect(q(el, '[data-edge="0,0,0"]')).toBe(group);
    expect(q(el, '[data-edge="0,0,0"] .kw-thumb-curve').getAttribute("d")).not.toBe(before);
    const { nodes, edges } = network([[2, 0], [3, 0], [1, 0]]);
    model.set("structure", { ...model.state.structure, width: [[2, 0], [3, 0], [1, 0]], mult_arity: [[], [], []], nodes, edges });
    model.set("curves", edgeCurves(9, 21));
    await flush();
    expect(all(el, "[data-edge]")).toHaveLength(9);
    expect(all(el, "[data-node]")).toHaveLength(6);
  });

  it("draws a training frame's curves in a task after its scores; an idle frame's at once", async () => {
    const { el, model } = mount();
    const d = (): string | null => q(el, '[data-edge="0,0,0"] .kw-thumb-curve').getAttribute("d");
    const opacity = (): string | null => q(el, '[data-edge="0,0,0"]').getAttribute("opacity");
    const first = [d(), opacity()];
    model.set("training", { state: "running", step: 1, steps: 50 });
    model.set("curves", edgeCurves(8, 21, 1.0));
    model.set("scores", { ...model.get("scores"), edge: encode(Array.from({ length: 8 }, () => 0.5)) });
    await Promise.resolve(); // the trait batch is applied in a microtask
    expect(opacity()).not.toBe(first[1]); // scores: now
    expect(d()).toBe(first[0]); // curves: in the next task
    await flush();
    const drawn = d();
    expect(drawn).not.toBe(first[0]);
    model.set("training", { state: "idle", step: 50, steps: 50 });
    model.set("curves", edgeCurves(8, 21, 2.0));
    await Promise.resolve();
    expect(d()).not.toBe(drawn);
  });

  it("shows pruned edges when the toggle is on, and syncs the trait", async () => {
    const { el, model } = mount();
    const box = q(el, ".kw-show-pruned-toggle") as unknown as HTMLInputElement;
    box.checked = true;
    box.dispatchEvent(new Event("change"));
    expect(model.state.show_pruned).toBe(true);
    expect(model.saves).toBe(1);
    await flush();
    expect(all(el, "[data-edge]")).toHaveLength(8);
    expect(q(el, '[data-edge="0,1,0"]').classList.contains("kw-inactive")).toBe(true);
  });

  it("removes its DOM and listeners on cleanup", () => {
    const model = new FakeModel(smallState());
    const el = document.createElement("div");
    const cleanup = widget.render({ model, el });
    // one per drawn trait (not `frames`: read on a version click); comm_live_update, comm:close, destroy, msg:custom
    expect(model.listenerCount()).toBe(TRAIT_NAMES.filter((k) => k !== "frames").length + 4);
    cleanup();
    expect(model.listenerCount()).toBe(0);
    expect(el.children).toHaveLength(0);
  });

  it("renders a 300-edge model quickly", () => {
    const width = [[10, 0], [20, 0], [5, 0]];
    const { nodes, edges } = network(width);
    const state = smallState();
    Object.assign(state, {
      structure: { width, mult_arity: [[], [], []], nodes, edges, in_vars: [], out_vars: [] },
      curves: edgeCurves(300, 50), samples: edgeCurves(300, 100, 0.2),
      scores: { edge: encode(edges.map(() => 0.5)) }, selected: [], candidates: [],
    });
    const t0 = performance.now();
    const { el } = mount(state);
    const ms = performance.now() - t0;
    console.info(`render of 300 edges: ${ms.toFixed(1)} ms (jsdom)`);
    expect(all(el, "[data-edge]")).toHaveLength(300);
    expect(ms).toBeLessThan(10000); // jsdom is far slower than a browser; this only catches blow-ups
  });
});

describe("interaction", () => {
  it("clicking an edge selects it and sends select_edge", () => {
    const { el, model } = mount();
    q(el, '[data-edge="0,1,1"] .kw-thumb-bg').dispatchEvent(new MouseEvent("click", { bubbles: true }));
    expect(model.sent).toEqual([{ action: "select_edge", edge: [0, 1, 1] }]);
    expect(q(el, '[data-edge="0,1,1"]').classList.contains("kw-selected")).toBe(true);
    expect(q(el, '[data-edge="0,0,0"]').classList.contains("kw-selected")).toBe(false);
    // Candidates belong to the kernel's selection (0,0,0) until it answers for (0,1,1).
    expect(all(el, "[data-candidate]")).toHaveLength(0);
    expect(q(el, ".kw-inspector .kw-panel-title").textContent).toBe("edge (0,1,1)");
  });

  it("Delete prunes the selected edge; Escape closes the inspector", () => {
    const { el, model } = mount();
    const root = q(el, ".kanwidget");
    root.dispatchEvent(new KeyboardEvent("keydown", { key: "Delete", bubbles: true }));
    expect(model.sent).toEqual([{ action: "prune_edge", edge: [0, 0, 0] }]);
    root.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
    expect(q(el, ".kw-inspector").hidden).toBe(true);
    expect(model.state.selected).toEqual([]);
  });

  it("dragging an edge box out of the diagram prunes it; a tiny move is a click", () => {
    const { el, model } = mount();
    const thumb = q(el, '[data-edge="0,0,1"] .kw-thumb-bg');
    pointer("pointerdown", thumb, 10, 10);
    pointer("pointermove", document, 12, 11);
    pointer("pointerup", document, 12, 11);
    expect(model.sent).toEqual([]);
    pointer("pointerdown", thumb, 10, 10);
    pointer("pointermove", document, 60, 10);
    expect(q(el, ".kw-diagram").classList.contains("kw-dragging")).toBe(true);
    pointer("pointerup", document, 500, 10);
    expect(model.sent).toEqual([{ action: "prune_edge", edge: [0, 0, 1] }]);
    expect(q(el, ".kw-diagram").classList.contains("kw-dragging")).toBe(false);
  });

  it("dragging a node away prunes it", () => {
    const { el, model } = mount();
    pointer("pointerdown", q(el, '[data-node="1,0"] .kw-node-shape'), 10, 10);
    pointer("pointermove", document, 80, 80);
    pointer("pointerup", document, 80, 80);
    expect(model.sent).toEqual([{ action: "prune_node", node: [1, 0] }]);
  });

  it("toolbar buttons send fit / pause / stop / prune and follow the training state", async () => {
    const { el, model } = mount();
    const button = (a: string) => q(el, `[data-action="${a}"]`) as unknown as HTMLButtonElement;
    const steps = q(el, ".kw-steps") as unknown as HTMLInputElement;
    const fit = { opt: "LBFGS", lr: 1, lamb: 0, update_grid: true };
    button("fit").click();
    button("fit").click(); // a double click starts one run: Fit waits for the kernel's answer
    expect(button("fit").disabled).toBe(true);
    model.set("error", { message: "x", seq: 1 }); // any answer re-enables it
    await flush();
    steps.value = "20";
    button("fit").click();
    button("prune").click();
    expect(model.sent).toEqual([{ action: "fit", steps: 50, ...fit }, { action: "fit", steps: 20, ...fit }, { action: "prune" }]);
    expect(button("pause").disabled).toBe(true);
    model.set("training", { state: "running", step: 5, steps: 50 });
    await flush();
    expect(button("fit").disabled).toBe(true);
    expect(button("pause").disabled).toBe(false);
    expect(q(el, ".kw-status").textContent).toBe("running 5/50");
    expect(q(el, ".kw-progress-bar").style.width).toBe("10%");
    button("pause").click();
    button("stop").click();
    expect(model.sent.slice(3)).toEqual([{ action: "pause" }, { action: "stop" }]);
  });

  it("draws the loss sparkline on a log scale", () => {
    const { el } = mount();
    expect(q(el, ".kw-loss-train").getAttribute("d")!.split("L")).toHaveLength(4);
    // the current version's (1.1) recorded test RMSE, with three significant digits
    expect(q(el, ".kw-spark-label tspan").textContent).toBe("test RMSE 0.110");
  });

  it("keeps working without a kernel", async () => {
    const model = new FakeModel(smallState());
    model.kernel = false;
    const el = document.createElement("div");
    cleanups.push(widget.render({ model, el }));
    q(el, '[data-edge="0,1,1"] .kw-thumb-bg').dispatchEvent(new MouseEvent("click", { bubbles: true }));
    (q(el, '[data-version="0.1"]') as HTMLElement).click();
    const box = q(el, ".kw-show-pruned-toggle") as unknown as HTMLInputElement;
    box.checked = true;
    box.dispatchEvent(new Event("change"));
    await flush();
    expect(all(el, "[data-edge]")).toHaveLength(8);
    expect(q(el, '[data-edge="0,1,1"]').classList.contains("kw-selected")).toBe(true);
  });
});

describe("inspector", () => {
  it("lists candidates with name, formula, R^2 and complexity", () => {
    const { el } = mount();
    const rows = Array.from(all(el, "[data-candidate]")) as HTMLElement[];
    expect(rows.map((r) => r.dataset.candidate)).toEqual(["sin", "x^2", "0"]);
    expect(rows.map((r) => r.querySelector(".kw-cand-r2")!.textContent)).toEqual(["0.9987", "0.4100", "0.0000"]);
    expect(rows[1].querySelector(".kw-cand-formula sup")!.textContent).toBe("2");
    expect(rows[0].querySelector(".kw-cand-complexity")!.textContent).toBe("2");
  });

  it("hovering a candidate overlays its curve; clicking fixes it", () => {
    const { el, model } = mount();
    const row = q(el, '[data-candidate="sin"]');
    row.dispatchEvent(new MouseEvent("mouseenter"));
    expect(q(el, ".kw-big-overlay").getAttribute("d")).toMatch(/^M/);
    row.dispatchEvent(new MouseEvent("mouseleave"));
    expect(q(el, ".kw-big-overlay").getAttribute("d")).toBe("");
    row.click();
    expect(model.sent).toEqual([{ action: "symbolify", edge: [0, 0, 0], name: "sin" }]);
  });

  it("fixes the edge to a typed function name", () => {
    const { el, model } = mount();
    (q(el, ".kw-fn-input") as unknown as HTMLInputElement).value = " tanh ";
    q(el, ".kw-fix").dispatchEvent(new Event("submit", { cancelable: true }));
    expect(model.sent).toEqual([{ action: "symbolify", edge: [0, 0, 0], name: "tanh" }]);
  });

  it("shows an error banner that can be dismissed until the next error", async () => {
    const { el, model } = mount();
    const banner = q(el, ".kw-banner");
    expect(banner.hidden).toBe(true);
    model.set("error", { message: "edge (0, 5, 0) does not exist", seq: 1 });
    await flush();
    expect(banner.hidden).toBe(false);
    expect(banner.textContent).toContain("does not exist");
    (banner.querySelector(".kw-close") as HTMLElement).click();
    expect(banner.hidden).toBe(true);
    model.set("error", { message: "unknown function 'foo'", seq: 2 });
    await flush();
    expect(banner.hidden).toBe(false);
  });
});

describe("timeline", () => {
  it("draws the version tree with rounds as lanes and the current version marked", () => {
    const { el } = mount();
    const ids = Array.from(all(el, "[data-version]")).map((r) => (r as HTMLElement).dataset.version);
    expect(ids).toEqual(["0.0", "0.1", "0.2", "1.1"]);
    expect(q(el, '[data-version="1.1"]').classList.contains("kw-current")).toBe(true);
    expect(all(el, ".kw-dot.kw-lane-1")).toHaveLength(1);
    expect(all(el, ".kw-link")).toHaveLength(3);
    expect(q(el, '[data-version="0.2"]').title).toContain("prune");
  });

  it("clicking a version checks it out; branch here rewinds to it", () => {
    const { el, model } = mount();
    (q(el, '[data-version="0.1"]') as HTMLElement).click();
    (q(el, '[data-action="rewind"]') as HTMLElement).click();
    expect(model.sent).toEqual([
      { action: "checkout", version: "0.1" },
      { action: "rewind", version: "0.1" },
    ]);
    expect(q(el, '[data-version="0.1"]').classList.contains("kw-selected")).toBe(true);
  });

  it("says which RMSE its rows show, in the same format as the toolbar label", async () => {
    const { el, model } = mount();
    expect(q(el, ".kw-timeline .kw-loss-which").textContent).toBe("test RMSE");
    const h = model.get("history");
    const v = h.versions.find((x) => x.id === "1.1")!;
    expect(q(el, '[data-version="1.1"] .kw-version-loss').textContent).toBe(fmtLoss(v.test_loss));
    expect(q(el, ".kw-spark-label tspan").textContent).toBe(`test RMSE ${fmtLoss(v.test_loss)}`);
    // a version without a test loss: its train RMSE is starred
    model.set("history", { ...h, versions: h.versions.map((x) => (x.id === "0.0" ? { ...x, test_loss: null } : x)) });
    await flush();
    expect(q(el, ".kw-timeline .kw-loss-which").textContent).toBe("test RMSE (* train)");
    expect(q(el, '[data-version="0.0"] .kw-version-loss').textContent).toMatch(/\*$/);
    // a version made before any data has no loss at all: a dash, not a starred dash
    model.set("history", { ...h, versions: h.versions.map((x) => (x.id === "0.0" ? { ...x, test_loss: null, train_loss: null } : x)) });
    await flush();
    const none = q(el, '[data-version="0.0"] .kw-version-loss') as HTMLElement;
    expect(none.textContent).toBe("–");
    expect(none.title).toBe("no loss recorded (made before any data)");
    expect(q(el, ".kw-timeline .kw-loss-which").textContent).toBe("test RMSE"); // no row starred
  });
});

describe("naming", () => {
  it("shows pykan's input names (the payload's x_1, x_2, y_1) on the nodes and in the inspector", () => {
    const state = smallState();
    const s = state.structure;
    s.nodes[0].label = "x_1";
    s.nodes[1].label = "x_2";
    s.nodes[s.nodes.length - 1].label = "y_1";
    Object.assign(s, { in_vars: ["x_1", "x_2"], out_vars: ["y_1"] });
    const { el } = mount(state);
    expect(Array.from(all(el, ".kw-node-label")).map((t) => t.textContent)).toEqual(["x_1", "x_2", "y_1"]);
    // selected edge (0,0,0) starts at input 0
    const facts = Array.from(all(el, ".kw-inspector .kw-fact")).map((f) => f.textContent);
    expect(facts[0]).toBe("inputx_1");
  });
});
