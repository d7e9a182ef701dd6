// One node of the diagram: a small circle for sum (and input / output) nodes, a square
// with a cross for multiplication nodes; input labels below (at an angle when a wide layer
// has no room for them side by side) with an importance bar, output labels above. A
// collapsed group of inputs is a dashed "+N" node listing its inputs in the tooltip.
import type { Structure } from "../model";
import { svg } from "../plot";
import { labelText } from "./inputs";
import type { NodePos } from "./layout";

const BAR_W = 26; // importance bar of the most important input

/** The name of an input or output node ("" for hidden nodes). */
export function nodeName(l: number, i: number, label: string, s: Structure, lastLayer: number): string {
  if (label) return label;
  if (l === 0) return s.in_vars?.[i] ?? `x_${i + 1}`;
  if (l === lastLayer) return s.out_vars?.[i] ?? `y_${i + 1}`;
  return "";
}

/** The text shown beside an input or output node. */
export function nodeLabel(p: NodePos, s: Structure, lastLayer: number): string {
  return nodeName(p.node.l, p.node.i, p.node.label, s, lastLayer);
}

export interface NodeStyle {
  rotate: boolean; // input labels at an angle
  importance: number | null; // 0..1 for inputs with scores
}

/** Build the DOM of one node (not yet attached). */
export function createNode(p: NodePos, s: Structure, lastLayer: number, style: NodeStyle): SVGGElement {
  const { node } = p;
  const t = (v: number): number => Math.round(v * 10) / 10;
  if (p.collapsed) return collapsedNode(p, s, lastLayer, style.rotate);
  const g = svg("g", {
    class: `kw-node kw-${node.kind}`,
    "data-node": p.key,
    transform: `translate(${t(p.x)},${t(p.y)})`,
  });
  const name = nodeLabel(p, s, lastLayer);
  const title = svg("title", {}, g);
  let text = `${node.kind} node (${p.key})${name ? ": " + name : ""}`;
  if (style.importance != null) text += `\nimportance ${(100 * style.importance).toFixed(0)}% of the top input`;
  title.textContent = text + "\ndrag away to prune";
  if (node.kind === "mult") {
    svg("rect", { class: "kw-node-shape", x: -7, y: -7, width: 14, height: 14, rx: 2 }, g);
    svg("path", { class: "kw-node-cross", d: "M-3.5 -3.5L3.5 3.5M3.5 -3.5L-3.5 3.5" }, g);
  } else {
    svg("circle", { class: "kw-node-shape", r: node.kind === "sum" ? 5 : 6 }, g);
  }
  const below = node.l === 0;
  if (below && style.importance != null) {
    svg("rect", { class: "kw-importance-track", x: -BAR_W / 2, y: 9, width: BAR_W, height: 3 }, g);
    const w = t(Math.max(1, BAR_W * style.importance));
    svg("rect", { class: "kw-importance", x: -BAR_W / 2, y: 9, width: w, height: 3 }, g);
  }
  if (name) {
    const label = svg("text", { class: "kw-node-label" }, g);
    label.textContent = below ? labelText(name) : name;
    if (below && style.rotate) {
      label.setAttribute("transform", "translate(4,18) rotate(-45)");
      label.classList.add("kw-rotated");
    } else {
      label.setAttribute("y", below ? "26" : "-12");
    }
  }
  return g;
}

function collapsedNode(p: NodePos, s: Structure, lastLayer: number, rotate: boolean): SVGGElement {
  const t = (v: number): number => Math.round(v * 10) / 10;
  const g = svg("g", { class: "kw-node kw-collapsed", "data-collapsed": p.collapsed!.length, transform: `translate(${t(p.x)},${t(p.y)})` });
  const names = p.collapsed!.map((i) => nodeName(0, i, "", s, lastLayer));
  const title = svg("title", {}, g);
  title.textContent = `${names.length} inputs with no drawn edge:\n${names.join(", ")}\nclick to show them`;
  svg("rect", { class: "kw-node-shape", x: -12, y: -7, width: 24, height: 14, rx: 7 }, g);
  const label = svg("text", { class: "kw-node-label" }, g);
  label.textContent = `+${names.length} inputs`;
  if (rotate) {
    label.setAttribute("transform", "translate(4,18) rotate(-45)");
    label.classList.add("kw-rotated");
  } else {
    label.setAttribute("y", "26");
  }
  return g;
}
