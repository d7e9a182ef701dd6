// @vitest-environment jsdom
import { afterEach, describe, expect, it } from "vitest";
import { decode, encode } from "./codec";
import { frameCurves, showFrame } from "./frames";
import type { Frame } from "./model";
import { Link } from "./panels/link";
import { markReadOnly } from "./readonly";
import { FakeModel, flush, network, smallState } from "./testing/fake";
import widget from "./widget";

let cleanups: (() => void)[] = [];
afterEach(() => {
  cleanups.forEach((c) => c());
  cleanups = [];
  document.body.replaceChildren();
});

/** A frame of the small state's model where every edge is a line a*x over [lo, hi]. */
function frame(slope: number, active = true): Frame {
  const { edges } = network([[2, 0], [1, 1], [1, 0]]);
  for (const e of edges) e.active = active;
  const E = edges.length;
  const P = 5;
  const range = new Float32Array(2 * E);
  const y = new Float32Array(E * P);
  for (let e = 0; e < E; e++) {
    range[2 * e] = -1 - e;
    range[2 * e + 1] = 1 + e;
    for (let t = 0; t < P; t++) y[e * P + t] = slope * (-1 - e + ((2 + 2 * e) * t) / (P - 1));
  }
  const s = smallState().structure;
  return {
    structure: { ...s, edges },
    curves: { range: encode(range, [E, 2]), y: encode(y, [E, P]) },
    samples: {},
    scores: { edge: encode(edges.map(() => 0.5)) },
    loss: { train: encode([2, 1]), test: encode([3, 2]) },
  };
}

/** A widget manager like the HTML manager of an exported page: models without a comm. */
function manager(model: FakeModel, live: boolean | undefined, kernel = false) {
  const backbone = { get: (k: string) => model.get(k as "structure"), comm_live: live };
  const m: Record<string, unknown> = { _models: { a: Promise.resolve(backbone) } };
  if (kernel) m.kernel = {};
  return m;
}

describe("frames", () => {
  it("expands each edge's range into evenly spaced x", () => {
    const c = frameCurves(frame(2));
    const x = decode(c.x)!;
    expect(x.shape).toEqual([8, 5]);
    expect(Array.from(x.data.slice(5, 10))).toEqual([-2, -1, 0, 1, 2]); // edge 1: [-2, 2]
    expect(Array.from(decode(c.y)!.data.slice(5, 10))).toEqual([-4, -2, 0, 2, 4]);
  });

  it("shows a stored version locally and marks it current", () => {
    const state = smallState();
    state.frames = { "0.1": frame(2) };
    const model = new FakeModel(state);
    expect(showFrame(model, "0.1")).toBe(true);
    expect(model.get("history").current).toBe("0.1");
    expect(model.get("history").versions).toHaveLength(4);
    expect(model.get("structure").edges.every((e) => e.active)).toBe(true);
    expect(Array.from(decode(model.get("loss").test)!.data)).toEqual([3, 2]);
    expect(model.get("selected")).toEqual([]);
    expect(model.saves).toBe(0); // nothing is sent anywhere
    expect(model.sent).toEqual([]);
    expect(showFrame(model, "9.9")).toBe(false);
  });
});

describe("read-only copy", () => {
  it("is decided by the kernel link (the comm of the Backbone model behind the proxy)", async () => {
    const stateWith = async (mgr: (m: FakeModel) => unknown): Promise<string> => {
      const model = new FakeModel(smallState());
      (model as unknown as { widget_manager?: unknown }).widget_manager = mgr(model);
      const link = new Link(model, () => undefined, { pingMs: 1e6 });
      await flush();
      link.dispose();
      return link.state;
    };
    // a saved copy: our model's comm is not live
    expect(await stateWith((m) => manager(m, false))).toBe("static");
    expect(await stateWith((m) => manager(m, false, true))).toBe("offline");
    expect(await stateWith((m) => manager(m, true, true))).toBe("live");
    // no model of ours in the manager: an HTML manager (no kernel) is read-only
    expect(await stateWith(() => ({ _models: {} }))).toBe("static");
  });

  it("says so, disables actions, and a version click shows the stored frame", async () => {
    const state = smallState();
    state.frames = { "0.1": frame(2), "0.0": frame(0) };
    const model = new FakeModel(state);
    (model as unknown as { widget_manager: unknown }).widget_manager = manager(model, false);
    const el = document.createElement("div");
    document.body.appendChild(el);
    cleanups.push(widget.render({ model, el }));
    await flush();
    expect(el.querySelector(".kw-readonly-note")?.textContent).toContain("read-only copy");
    for (const a of ["fit", "prune", "rewind"]) {
      expect((el.querySelector(`[data-action="${a}"]`) as HTMLButtonElement).disabled).toBe(true);
    }
    expect(el.querySelectorAll("[data-edge]")).toHaveLength(7);
    (el.querySelector('[data-version="0.1"]') as HTMLElement).click();
    await flush();
    expect(el.querySelectorAll("[data-edge]")).toHaveLength(8); // the frame has every edge
    expect(el.querySelector('[data-version="0.1"]')!.classList.contains("kw-current")).toBe(true);
    expect(model.sent).toEqual([]);
    // buttons stay disabled after the panels redraw
    expect((el.querySelector('[data-action="rewind"]') as HTMLButtonElement).disabled).toBe(true);
  });

  it("markReadOnly is idempotent", () => {
    const root = document.createElement("div");
    markReadOnly(root);
    markReadOnly(root);
    expect(root.querySelectorAll(".kw-readonly-note")).toHaveLength(1);
  });
});
