// One node of the diagram: a small circle for sum (and input / output) nodes, a square
// with a cross for multiplication nodes; input labels below, output labels above.
import type { Structure } from "../model";
import { svg } from "../plot";
import type { NodePos } from "./layout";

/** The text shown beside an input or output node. */
export function nodeLabel(p: NodePos, s: Structure, lastLayer: number): string {
  const { node } = p;
  if (node.label) return node.label;
  if (node.l === 0) return s.in_vars?.[node.i] ?? `x${node.i + 1}`;
  if (node.l === lastLayer) return s.out_vars?.[node.i] ?? `y${node.i + 1}`;
  return "";
}

/** Build the DOM of one node (not yet attached). */
export function createNode(p: NodePos, s: Structure, lastLayer: number): SVGGElement {
  const { node } = p;
  const g = svg("g", {
    class: `kw-node kw-${node.kind}`,
    "data-node": p.key,
    transform: `translate(${Math.round(p.x * 10) / 10},${Math.round(p.y * 10) / 10})`,
  });
  const label = nodeLabel(p, s, lastLayer);
  const title = svg("title", {}, g);
  title.textContent = `${node.kind} node (${p.key})${label ? ": " + label : ""}\ndrag away to prune`;
  if (node.kind === "mult") {
    svg("rect", { class: "kw-node-shape", x: -7, y: -7, width: 14, height: 14, rx: 2 }, g);
    svg("path", { class: "kw-node-cross", d: "M-3.5 -3.5L3.5 3.5M3.5 -3.5L-3.5 3.5" }, g);
  } else {
    svg("circle", { class: "kw-node-shape", r: node.kind === "sum" ? 5 : 6 }, g);
  }
  if (label) {
    const below = node.l === 0;
    const t = svg("text", { class: "kw-node-label", y: below ? 20 : -12 }, g);
    t.textContent = label;
  }
  return g;
}
