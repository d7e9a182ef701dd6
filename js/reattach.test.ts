// @vitest-environment jsdom
// JupyterLab re-renders an output when the kernel refreshes the stored SVG: it empties the
// output node and renders a new view of the same model through a new anywidget proxy. The
// view the user worked in must move into the new output unchanged (reattach.ts).
import { afterEach, describe, expect, it, vi } from "vitest";
import type { WidgetModel } from "./model";
import { GRACE_MS } from "./reattach";
import { FakeModel, flush, smallState } from "./testing/fake";
import widget from "./widget";

/** A second proxy of the same model, as anywidget makes one per view. */
function proxy(m: FakeModel): WidgetModel {
  return {
    get: m.get.bind(m),
    set: m.set.bind(m),
    on: m.on.bind(m),
    off: m.off.bind(m),
    send: m.send.bind(m),
    save_changes: m.save_changes.bind(m),
  } as WidgetModel;
}

function output(): HTMLElement {
  const out = document.createElement("div"); // JupyterLab's output node
  const el = document.createElement("div"); // the view's host
  out.appendChild(el);
  document.body.appendChild(out);
  return el;
}

/** What JupyterLab does on update_display_data: empty the output node, render again. */
function rerender(el: HTMLElement, model: WidgetModel) {
  const out = el.parentElement!;
  out.textContent = "Loading widget...";
  const next = document.createElement("div");
  const cleanup = widget.render({ model, el: next });
  out.textContent = "";
  out.appendChild(next);
  return { next, cleanup };
}

afterEach(() => {
  vi.useRealTimers();
  document.body.replaceChildren();
});

describe("re-rendered output", () => {
  it("moves the same view, with its UI state, into the new output and keeps it live", async () => {
    const model = new FakeModel(smallState());
    const el = output();
    const first = widget.render({ model: proxy(model), el });
    await new Promise((r) => setTimeout(r, 60)); // the view notes it is in the page
    const root = el.querySelector(".kanwidget") as HTMLElement;
    // UI-only state the user made: a zoomed diagram (svg size) and an edge selected here
    const svg = root.querySelector("svg") as SVGSVGElement;
    svg.setAttribute("width", "1234");
    (root.querySelector('[data-edge="0,1,1"] .kw-thumb-bg') as Element).dispatchEvent(new MouseEvent("click", { bubbles: true }));
    const { next, cleanup } = rerender(el, proxy(model));
    expect(next.querySelector(".kanwidget")).toBe(root); // the very same view
    expect(root.querySelector("svg")!.getAttribute("width")).toBe("1234");
    expect(root.querySelector('[data-edge="0,1,1"]')!.classList.contains("kw-selected")).toBe(true);
    expect(document.querySelectorAll(".kanwidget")).toHaveLength(1);
    first(); // the old output's cleanup (if JupyterLab ever runs it) leaves the moved view alone
    expect(next.querySelector(".kanwidget")).toBe(root);
    // still drawing the model's changes, through the new proxy
    const s = model.get("structure");
    model.set("structure", { ...s, edges: s.edges.map((e) => (e.l === 1 ? { ...e, active: false } : e)) });
    await flush();
    expect(root.querySelectorAll('[data-edge^="1,"]')).toHaveLength(0);
    const before = model.listenerCount();
    cleanup();
    expect(model.listenerCount()).toBeLessThan(before);
    expect(next.children).toHaveLength(0);
  });

  it("never takes a view that is still shown (the same widget displayed twice)", async () => {
    const model = new FakeModel(smallState());
    const a = output();
    const b = output();
    widget.render({ model: proxy(model), el: a });
    widget.render({ model: proxy(model), el: b });
    await new Promise((r) => setTimeout(r, 60));
    const ra = a.querySelector(".kanwidget");
    const rb = b.querySelector(".kanwidget");
    expect(ra).not.toBeNull();
    expect(rb).not.toBeNull();
    expect(ra).not.toBe(rb);
  });

  it("a detached view nobody claims disposes itself after the grace period", async () => {
    const model = new FakeModel(smallState());
    const el = output();
    widget.render({ model: proxy(model), el });
    await new Promise((r) => setTimeout(r, 60));
    vi.useFakeTimers();
    const n = model.listenerCount();
    el.parentElement!.textContent = ""; // output cleared, no new render
    model.set("beta", 5); // an update finds it detached
    await vi.advanceTimersByTimeAsync(GRACE_MS + 100);
    expect(model.listenerCount()).toBeLessThan(n);
    // a later render of the same model builds a new view
    const fresh = output();
    vi.useRealTimers();
    widget.render({ model: proxy(model), el: fresh });
    expect(fresh.querySelector(".kanwidget")).not.toBeNull();
  });

  it("a view of another model is never taken", async () => {
    const m1 = new FakeModel(smallState());
    const m2 = new FakeModel(smallState());
    const el = output();
    widget.render({ model: proxy(m1), el });
    await new Promise((r) => setTimeout(r, 60));
    const root = el.querySelector(".kanwidget");
    const { next } = rerender(el, proxy(m2));
    expect(next.querySelector(".kanwidget")).not.toBe(root);
  });
});
