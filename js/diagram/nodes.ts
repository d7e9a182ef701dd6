// One node of the diagram: a small circle for sum (and input / output) nodes, a square
// with a cross for multiplication nodes; input labels below (at an angle when a wide layer
// has no room for them side by side) with an importance bar, output labels above. A
// collapsed group of inputs is a dashed "+N" node listing its inputs in the tooltip. A layout's
// nodes are made from one markup string (nodeMarkup), parsed once.
import type { Structure } from "../model";
import { dec1, escapeMarkup } from "../plot";
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


/** The markup of one node (`isolated`: a hidden node with no drawn edge, drawn faint). */
export function nodeMarkup(p: NodePos, s: Structure, lastLayer: number, style: NodeStyle, isolated = false): string {
  const { node } = p;
  if (p.collapsed) return collapsedMarkup(p, s, lastLayer, style.rotate);
  const name = nodeLabel(p, s, lastLayer);
  let title = `${node.kind} node (${p.key})${name ? ": " + name : ""}`;
  if (style.importance != null) title += `\nimportance ${(100 * style.importance).toFixed(0)}% of the top input`;
  let out =
    `<g class="kw-node kw-${node.kind}${isolated ? " kw-isolated" : ""}" data-node="${p.key}" transform="translate(${dec1(p.x)},${dec1(p.y)})">` +
    `<title>${escapeMarkup(title + "\ndrag away to prune")}</title>`;
  if (node.kind === "mult") {
    out += `<rect class="kw-node-shape" x="-7" y="-7" width="14" height="14" rx="2"/><path class="kw-node-cross" d="M-3.5 -3.5L3.5 3.5M3.5 -3.5L-3.5 3.5"/>`;
  } else {
    out += `<circle class="kw-node-shape" r="${node.kind === "sum" ? 5 : 6}"/>`;
  }
  const below = node.l === 0;
  if (below && style.importance != null) {
    const w = dec1(Math.max(1, BAR_W * style.importance));
    out += `<rect class="kw-importance-track" x="${-BAR_W / 2}" y="9" width="${BAR_W}" height="3"/>`;
    out += `<rect class="kw-importance" x="${-BAR_W / 2}" y="9" width="${w}" height="3"/>`;
  }
  if (name) out += labelMarkup(below ? labelText(name) : name, below, style.rotate);
  return out + "</g>";
}

/** A node's label: below an input (at an angle when `rotate`), above an output. */
function labelMarkup(text: string, below: boolean, rotate: boolean): string {
  const place = below && rotate ? `class="kw-node-label kw-rotated" transform="translate(4,18) rotate(-45)"` : `class="kw-node-label" y="${below ? 26 : -12}"`;
  return `<text ${place}>${escapeMarkup(text)}</text>`;
}

function collapsedMarkup(p: NodePos, s: Structure, lastLayer: number, rotate: boolean): string {
  const names = p.collapsed!.map((i) => nodeName(0, i, "", s, lastLayer));
  const title = `${names.length} inputs with no drawn edge:\n${names.join(", ")}\nclick to show them`;
  return (
    `<g class="kw-node kw-collapsed" data-collapsed="${p.collapsed!.length}" transform="translate(${dec1(p.x)},${dec1(p.y)})">` +
    `<title>${escapeMarkup(title)}</title><rect class="kw-node-shape" x="-12" y="-7" width="24" height="14" rx="7"/>` +
    labelMarkup(`+${names.length} inputs`, true, rotate) +
    "</g>"
  );
}
