// @vitest-environment jsdom
import { afterEach, describe, expect, it } from "vitest";
import { encode } from "../codec";
import type { Action, Pareto } from "../model";
import { FakeModel, flush, smallState } from "../testing/fake";
import widget from "../widget";
import { ParetoPanel, paretoPoints, pointTooltip } from "./pareto";

afterEach(() => document.body.replaceChildren());

const PARETO: Pareto = {
  complexity: encode([3, 5, 9, 4]),
  error: encode([0.1, 1e-3, 0, 0.5]),
  formula: ["x", "x*y", "x*y + 0*z", "sin(x)"],
  latex: ["x", "x y", "x y", "\\sin{x}"],
  universe: ["0.1", "1.1", null, "0.2"],
  front: [true, true, true, false],
  best: 1,
  labels: { complexity: "formula size", error: "test RMSE" },
};

const points = (el: Element) => Array.from(el.querySelectorAll<SVGCircleElement>("[data-pareto-point]"));

describe("pareto panel", () => {
  it("decodes one point per candidate with its values", () => {
    const pts = paretoPoints(PARETO);
    expect(pts.map((p) => [p.complexity, p.error, p.universe, p.front, p.best])).toEqual([
      [3, Math.fround(0.1), "0.1", true, false],
      [5, Math.fround(1e-3), "1.1", true, true],
      [9, 0, null, true, false],
      [4, 0.5, "0.2", false, false],
    ]);
    expect(paretoPoints({})).toEqual([]);
  });

  it("draws points on a log error axis, hover shows the formula, click checks out", () => {
    const sent: Action[] = [];
    const panel = new ParetoPanel((a) => sent.push(a));
    document.body.appendChild(panel.el);
    panel.update(PARETO, "1.1");
    expect(panel.el.hidden).toBe(false);
    const pts = points(panel.el);
    expect(pts.map((c) => c.dataset.paretoPoint)).toEqual(["0", "1", "2", "3"]);
    expect(pts.map((c) => c.dataset.universe ?? null)).toEqual(["0.1", "1.1", null, "0.2"]);
    const y = pts.map((c) => Number(c.getAttribute("cy")));
    // log scale: 0.1 -> 1e-3 spans two decades, 0.1 -> 0.5 spans log10(5) of one
    const perDecade = (y[1] - y[0]) / 2;
    expect(y[3] - y[0]).toBeCloseTo(-perDecade * Math.log10(5), 3);
    expect(y[2]).toBeGreaterThan(y[1]); // an exact formula (error 0) sits below every other
    expect(Number(pts[0].getAttribute("cx"))).toBeLessThan(Number(pts[3].getAttribute("cx")));
    expect(pts[1].classList.contains("kw-current")).toBe(true);
    expect(pts[3].classList.contains("kw-front")).toBe(false);
    pts[3].dispatchEvent(new MouseEvent("mouseenter"));
    const tip = panel.el.querySelector(".kw-pareto-tip")!.textContent!;
    expect(tip).toContain("sin(x)");
    expect(tip).toContain("formula size 4");
    pts[3].dispatchEvent(new MouseEvent("click", { bubbles: true }));
    pts[2].dispatchEvent(new MouseEvent("click", { bubbles: true })); // no universe: no message
    expect(sent).toEqual([{ action: "checkout", version: "0.2" }]);
    expect(panel.el.querySelector(".kw-pareto-front")!.getAttribute("d")!.match(/V/g)).toHaveLength(2);
  });

  it("is hidden without points and follows the widget's history", async () => {
    const state = smallState();
    const model = new FakeModel(state);
    const el = document.createElement("div");
    document.body.appendChild(el);
    const dispose = widget.render({ model, el });
    const panel = el.querySelector<HTMLElement>(".kw-pareto")!;
    expect(panel.hidden).toBe(true);
    model.set("pareto", { ...PARETO, universe: ["0.1", "1.1", null, "0.2"] });
    await flush();
    expect(panel.hidden).toBe(false);
    expect(points(el)).toHaveLength(4);
    expect(el.querySelector('[data-pareto-point="1"]')!.classList.contains("kw-current")).toBe(true);
    model.set("history", { ...state.history, current: "0.2" });
    await flush();
    expect(el.querySelector('[data-pareto-point="3"]')!.classList.contains("kw-current")).toBe(true);
    el.querySelector('[data-pareto-point="0"]')!.dispatchEvent(new MouseEvent("click", { bubbles: true }));
    expect(model.sent).toContainEqual({ action: "checkout", version: "0.1" });
    dispose();
  });
});

describe("pareto tooltip", () => {
  it("writes the held-out RMSE as the timeline does (3 significant digits, zeros kept)", () => {
    const pt = { index: 0, formula: "x", complexity: 2, error: 0.018, universe: null, front: true, best: false };
    const tip = pointTooltip(pt, { complexity: "formula size", error: "test RMSE" });
    expect(tip.split("\n")[1]).toBe("formula size 2 · test RMSE 0.0180");
  });
});
