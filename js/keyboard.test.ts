// @vitest-environment jsdom
// Roving focus over the diagram: the Tab stop is found without sorting every item.
import { describe, expect, it } from "vitest";
import { DiagramKeys, firstInOrder, keyboardOrder } from "./keyboard";

function items(): HTMLElement {
  const root = document.createElement("div");
  // document order differs from keyboard order (per layer: nodes by i, then edges by i, j)
  const attrs = ["edge:1,0,1", "node:1,1", "edge:0,2,0", "node:0,1", "edge:0,0,1", "node:1,0", "node:0,0", "edge:0,0,0"];
  for (const a of attrs) {
    const [kind, key] = a.split(":");
    const el = document.createElement("span");
    el.setAttribute(`data-${kind}`, key);
    root.appendChild(el);
  }
  return root;
}

const name = (el: Element | undefined) => el?.getAttribute("data-edge") ?? el?.getAttribute("data-node");

describe("keyboard order", () => {
  it("puts each layer's nodes before its edges, and the first item is the sorted order's first", () => {
    const list = Array.from(items().children);
    expect(keyboardOrder(list).map(name)).toEqual(["0,0", "0,1", "0,0,0", "0,0,1", "0,2,0", "1,0", "1,1", "1,0,1"]);
    for (let k = 0; k < list.length; k++) {
      const rotated = [...list.slice(k), ...list.slice(0, k)];
      expect(firstInOrder(rotated)).toBe(keyboardOrder(rotated)[0]);
    }
    expect(firstInOrder([])).toBeUndefined();
  });

  it("gives exactly one Tab stop: the preferred edge, else the first item; every item gets a label", () => {
    const root = items();
    const keys = new DiagramKeys(root, { select: () => {}, pruneEdge: () => {}, pruneNode: () => {}, escape: () => {} });
    keys.refresh("0,2,0");
    const stops = () => Array.from(root.children).filter((el) => (el as HTMLElement).tabIndex === 0);
    expect(stops().map(name)).toEqual(["0,2,0"]);
    expect(Array.from(root.children).every((el) => el.hasAttribute("tabindex") && el.getAttribute("aria-label"))).toBe(true);
    root.querySelector('[data-edge="0,2,0"]')!.remove(); // the stop is gone (pruned)
    keys.refresh();
    expect(stops().map(name)).toEqual(["0,0"]);
    keys.dispose();
  });
});
