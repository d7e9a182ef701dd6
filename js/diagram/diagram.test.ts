// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from "vitest";
import { encode } from "../codec";
import { FakeModel, bigState, flush, network, smallState } from "../testing/fake";
import widget from "../widget";
import { Diagram } from "./diagram";
import { FAINT_OPACITY, LARGE_MODEL } from "./faint";

let cleanups: (() => void)[] = [];
afterEach(() => {
  cleanups.forEach((c) => c());
  cleanups = [];
  document.body.replaceChildren();
  vi.useRealTimers();
});

function mount(state = smallState()) {
  const model = new FakeModel(state);
  const el = document.createElement("div");
  document.body.appendChild(el);
  cleanups.push(widget.render({ model, el }));
  return { model, el };
}

// shown: laid out (displayed) and not hidden in place (opacity 0 while scores stream)
const visible = (el: Element) =>
  Array.from(el.querySelectorAll<SVGGElement>("[data-edge]")).filter(
    (g) => g.style.display !== "none" && g.getAttribute("opacity") !== "0.000",
  );
const strong = (e: number) => (e % 3 === 0 ? 0.5 : 0.001); // tanh(3 * 0.001) < FAINT_OPACITY

describe("diagram layers", () => {
  it("draws every line below every plot, so no line can cover a plot", async () => {
    vi.useFakeTimers();
    const { el } = mount(bigState(() => 0.5));
    // the first task makes every line and plot box; a plot's paths come when it is drawn
    expect(el.querySelectorAll(".kw-plots [data-edge] > rect")).toHaveLength(150);
    expect(el.querySelectorAll(".kw-plots [data-edge] > path").length).toBeLessThan(300);
    await vi.advanceTimersByTimeAsync(200);
    const svgEl = el.querySelector(".kw-svg")!;
    const groups = Array.from(svgEl.children).map((c) => c.getAttribute("class"));
    expect(groups).toEqual(["kw-lines", "kw-plots", "kw-nodes"]);
    expect(svgEl.querySelectorAll(".kw-lines [data-line]")).toHaveLength(150);
    expect(svgEl.querySelectorAll(".kw-plots [data-edge]")).toHaveLength(150);
    // a line is one path (no group, no hit stroke): the pointer finds lines from the layout
    expect(svgEl.querySelectorAll(".kw-lines *")).toHaveLength(150);
    expect(Array.from(svgEl.querySelectorAll(".kw-lines > *")).every((p) => p.tagName === "path" && p.namespaceURI === "http://www.w3.org/2000/svg")).toBe(true);
    // a plot is four SVG elements (group, box, dots, curve)
    expect(svgEl.querySelectorAll(".kw-plots *")).toHaveLength(600);
    expect(svgEl.querySelector(".kw-plots [data-edge] > rect")!.namespaceURI).toBe("http://www.w3.org/2000/svg");
  });
});

describe("faint edges", () => {
  it("are hidden by default on a large model, with a control that shows them", async () => {
    vi.useFakeTimers();
    expect(150).toBeGreaterThan(LARGE_MODEL);
    expect(Math.tanh(3 * 0.001)).toBeLessThan(FAINT_OPACITY);
    const { el } = mount(bigState(strong));
    expect(visible(el)).toHaveLength(50);
    expect(el.querySelectorAll("[data-edge]")).toHaveLength(50); // no DOM for edges never shown
    const box = el.querySelector(".kw-hide-faint") as HTMLInputElement;
    expect(box.checked).toBe(true);
    expect(box.parentElement!.textContent).toContain("(100)");
    box.checked = false;
    box.dispatchEvent(new Event("change"));
    expect(visible(el)).toHaveLength(150);
    await vi.advanceTimersByTimeAsync(100); // the new plots are drawn in slices, frame by frame
    expect(visible(el).every((g) => g.querySelector(".kw-thumb-curve")!.getAttribute("d")!.startsWith("M"))).toBe(true);
  });

  it("are kept on a small model", () => {
    const s = smallState();
    s.scores = { edge: encode(s.structure.edges.map(() => 0.001)) };
    const { el } = mount(s);
    expect(visible(el)).toHaveLength(7);
  });

  it("hide in place while scores stream, and are laid out again once they settle", async () => {
    vi.useFakeTimers();
    const { el, model } = mount(bigState(() => 0.5));
    expect(visible(el)).toHaveLength(150);
    const before = el.querySelector('[data-edge="0,0,0"]')!.getAttribute("transform");
    model.set("scores", { ...model.state.scores, edge: encode(model.state.structure.edges.map((_, e) => strong(e))) });
    await vi.advanceTimersByTimeAsync(0);
    expect(visible(el)).toHaveLength(50);
    const hidden = el.querySelector<SVGGElement>('[data-edge="0,0,1"]')!; // faint: hidden in place
    expect([hidden.isConnected, hidden.getAttribute("opacity")]).toEqual([true, "0.000"]);
    expect(el.querySelector('[data-line="0,0,1"]')!.getAttribute("stroke-opacity")).toBe("0.000");
    hidden.querySelector(".kw-thumb-bg")!.dispatchEvent(new MouseEvent("pointerover", { bubbles: true }));
    expect(el.querySelectorAll(".kw-hl")).toHaveLength(0); // not lit: it is not shown
    expect(el.querySelector('[data-edge="0,0,0"]')!.getAttribute("transform")).toBe(before);
    await vi.advanceTimersByTimeAsync(1000);
    expect(visible(el)).toHaveLength(50);
    expect(hidden.isConnected).toBe(false); // laid out again without it
    expect(el.querySelector('[data-edge="0,0,0"]')!.getAttribute("transform")).not.toBe(before);
  });

  it("never hide the selected edge", () => {
    const s = bigState(strong);
    s.selected = [0, 0, 1]; // edge 1: faint
    const { el } = mount(s);
    expect(visible(el).map((g) => g.dataset.edge)).toContain("0,0,1");
  });
});

describe("hover", () => {
  it("lights the neighbourhood of an edge and dims the rest", () => {
    const { el } = mount(bigState(() => 0.5));
    const plot = el.querySelector('[data-edge="1,2,3"] .kw-thumb-bg')!;
    plot.dispatchEvent(new MouseEvent("pointerover", { bubbles: true }));
    expect(el.querySelector(".kw-svg")!.classList.contains("kw-hovering")).toBe(true);
    const lit = Array.from(el.querySelectorAll("[data-edge].kw-hl"), (g) => (g as SVGGElement).dataset.edge!);
    // node (1,2): 4 edges in, 10 out; node (2,3): 10 in, 1 out; (1,2,3) counted once
    expect(lit).toHaveLength(4 + 10 + 10 + 1 - 1);
    expect(lit.every((k) => { const [l, i, j] = k.split(",").map(Number); return (l === 0 && j === 2) || (l === 1 && (i === 2 || j === 3)) || (l === 2 && i === 3); })).toBe(true);
    expect(Array.from(el.querySelectorAll("[data-node].kw-hl"), (n) => (n as SVGGElement).dataset.node).sort()).toEqual(["1,2", "2,3"]);
    el.querySelector(".kw-svg")!.dispatchEvent(new MouseEvent("pointerleave"));
    expect(el.querySelectorAll(".kw-hl")).toHaveLength(0);
  });
});

describe("line hover", () => {
  it("lights the line nearest the pointer, found from the layout (a line has no hit stroke)", () => {
    const { el } = mount(bigState(() => 0.5));
    const svgEl = el.querySelector<SVGSVGElement>(".kw-svg")!;
    const [w, h] = [Number(svgEl.getAttribute("width")), Number(svgEl.getAttribute("height"))];
    // jsdom has no geometry: the SVG at zoom 1 at the page's origin
    svgEl.getBoundingClientRect = () => ({ left: 0, top: 0, width: w, height: h, right: w, bottom: h, x: 0, y: 0, toJSON: () => ({}) }) as DOMRect;
    const segs = Array.from(el.querySelectorAll("[data-line]"), (p) => {
      const v = p.getAttribute("d")!.split(/[ML ]/).filter(Boolean).map(Number);
      return { key: p.getAttribute("data-line")!, s: [v.slice(0, 4), v.slice(4, 8)] };
    });
    const dist = (x: number, y: number, [x1, y1, x2, y2]: number[]) => {
      const t = Math.max(0, Math.min(1, ((x - x1) * (x2 - x1) + (y - y1) * (y2 - y1)) / ((x2 - x1) ** 2 + (y2 - y1) ** 2)));
      return Math.hypot(x - x1 - t * (x2 - x1), y - y1 - t * (y2 - y1));
    };
    // a point on a last-layer line (between its box and the output node) off every plot box and node
    const boxes = Array.from(el.querySelectorAll<SVGGElement>("[data-edge]"), (g) => {
      const [bx, by] = g.getAttribute("transform")!.match(/[-\d.]+/g)!.map(Number);
      const r = g.querySelector("rect")!;
      return [bx, by, bx + Number(r.getAttribute("width")), by + Number(r.getAttribute("height"))];
    });
    const nodes = Array.from(el.querySelectorAll("[data-node]"), (n) => n.getAttribute("transform")!.match(/[-\d.]+/g)!.map(Number));
    const free = (px: number, py: number) =>
      !boxes.some(([a, b, c, d]) => px >= a - 1 && px <= c + 1 && py >= b - 1 && py <= d + 1) && nodes.every(([nx, ny]) => Math.hypot(px - nx, py - ny) > 10);
    const [x1, y1, x2, y2] = segs.find((l) => l.key.startsWith("2,"))!.s[1];
    const t = [0.5, 0.3, 0.7, 0.2, 0.8].find((u) => free(x1 + u * (x2 - x1), y1 + u * (y2 - y1)))!;
    const [x, y] = [x1 + t * (x2 - x1), y1 + t * (y2 - y1)];
    const nearest = segs.reduce((a, b) => (Math.min(...b.s.map((q) => dist(x, y, q))) < Math.min(...a.s.map((q) => dist(x, y, q))) ? b : a));
    expect(Math.min(...nearest.s.map((q) => dist(x, y, q)))).toBeLessThan(1);
    svgEl.dispatchEvent(new MouseEvent("pointermove", { bubbles: true, clientX: x, clientY: y }));
    expect(svgEl.classList.contains("kw-hovering")).toBe(true);
    expect(svgEl.classList.contains("kw-on-line")).toBe(true); // pointer cursor
    expect(el.querySelector(`[data-line="${nearest.key}"]`)!.classList.contains("kw-hl")).toBe(true);
    expect(el.querySelector(`[data-edge="${nearest.key}"]`)!.classList.contains("kw-hl")).toBe(true);
    // far from every line (a corner): nothing lit
    svgEl.dispatchEvent(new MouseEvent("pointermove", { bubbles: true, clientX: 1, clientY: h - 1 }));
    expect(el.querySelectorAll(".kw-hl")).toHaveLength(0);
    expect(svgEl.classList.contains("kw-on-line")).toBe(false);
  });
});

describe("drag", () => {
  it("shows the dragged faint plot at full opacity and lets nothing else react", () => {
    const { el } = mount(bigState(strong));
    const group = el.querySelector<SVGGElement>('[data-edge="0,0,0"]')!;
    const target = group.querySelector(".kw-thumb-bg")!;
    target.dispatchEvent(new MouseEvent("pointerdown", { bubbles: true, clientX: 10, clientY: 10, button: 0 }));
    document.dispatchEvent(new MouseEvent("pointermove", { bubbles: true, clientX: 60, clientY: 40 }));
    expect(group.classList.contains("kw-dragged")).toBe(true);
    expect(group.parentElement!.lastElementChild).toBe(group);
    expect(el.querySelector(".kw-diagram")!.classList.contains("kw-dragging")).toBe(true);
    document.dispatchEvent(new MouseEvent("pointerup", { bubbles: true, clientX: 60, clientY: 40 }));
    expect(group.classList.contains("kw-dragged")).toBe(false);
  });
});

describe("inputs", () => {
  it("draws importance bars and collapses quiet inputs of a wide layer until clicked", () => {
    const width = [[30, 0], [3, 0], [1, 0]];
    const { nodes, edges } = network(width);
    const names = Array.from({ length: 30 }, (_, i) => `input_number_${i}_with_a_long_name`);
    const d = new Diagram({ select: () => {}, pruneEdge: () => {}, pruneNode: () => {} });
    document.body.appendChild(d.el);
    edges.forEach((e) => (e.active = e.l === 1 || e.i < 4));
    const nodeScores = new Float32Array(nodes.map((n) => (n.l === 0 ? (n.i < 4 ? n.i + 1 : 0) : 1)));
    d.setScores(undefined, 3, nodeScores);
    d.build({ width, mult_arity: [[], [], []], nodes, edges, in_vars: names, out_vars: [] }, false);
    const inputs = d.el.querySelectorAll('[data-node^="0,"]');
    expect(inputs).toHaveLength(4);
    const bars = Array.from(inputs, (n) => Number(n.querySelector(".kw-importance")!.getAttribute("width")));
    expect(bars).toEqual([6.5, 13, 19.5, 26]);
    expect(inputs[0].querySelector(".kw-node-label")!.textContent).toBe("input_number_0_with_a…");
    const more = d.el.querySelector("[data-collapsed]")!;
    expect(more.textContent).toContain("+26 inputs");
    expect(more.querySelector("title")!.textContent).toContain("input_number_29_with_a_long_name");
    more.dispatchEvent(new MouseEvent("click", { bubbles: true }));
    expect(d.el.querySelectorAll('[data-node^="0,"]')).toHaveLength(30);
    expect(d.el.querySelectorAll(".kw-rotated")).toHaveLength(30);
    d.dispose();
  });
});

describe("node markup", () => {
  it("draws names and formulas as text, never as markup", () => {
    const width = [[2, 0], [1, 0]];
    const { nodes, edges } = network(width);
    edges[0].symbolic = "x<y & \"z\"";
    const d = new Diagram({ select: () => {}, pruneEdge: () => {}, pruneNode: () => {} });
    document.body.appendChild(d.el);
    d.build({ width, mult_arity: [[], []], nodes, edges, in_vars: ["a<b>", 'q&"r"'], out_vars: ["<i>y</i>"] }, false);
    const labels = Array.from(d.el.querySelectorAll(".kw-node-label"), (t) => t.textContent);
    expect(labels).toEqual(["a<b>", 'q&"r"', "<i>y</i>"]);
    expect(d.el.querySelector('[data-node="0,0"] title')!.textContent).toBe("input node (0,0): a<b>\ndrag away to prune");
    expect(d.el.querySelector(".kw-thumb-label")!.textContent).toBe('x<y & "z"');
    expect(d.el.querySelectorAll(".kw-svg i, .kw-svg b")).toHaveLength(0);
    expect(d.el.querySelector('[data-node="0,0"]')!.namespaceURI).toBe("http://www.w3.org/2000/svg");
    d.dispose();
  });
});

describe("zoom", () => {
  it("scales the drawing with the buttons and keeps the layout", async () => {
    const { el } = mount(bigState(() => 0.5));
    const svgEl = el.querySelector(".kw-svg")!;
    const w0 = Number(svgEl.getAttribute("width"));
    const [plus] = Array.from(el.querySelectorAll<HTMLButtonElement>(".kw-zoom")).filter((b) => b.textContent === "+");
    plus.click();
    expect(Number(svgEl.getAttribute("width"))).toBeCloseTo(w0 * 1.25, -1);
    expect(Number(svgEl.getAttribute("viewBox")!.split(" ")[2])).toBeCloseTo(w0, -1);
    await flush();
  });
});
