// Hover highlight: pointing at an edge lights up its neighbourhood (its two nodes and every
// drawn edge that touches them) and dims the rest; pointing at a node lights up the node and
// its edges. Only classes change (kw-hovering on the SVG, kw-hl on the lit elements), so a
// hover costs one style pass, however big the model.
import type { EdgeView } from "./edges";
import { nodeKey } from "./layout";

/** The node keys and edge keys lit when hovering edge `key` (or node `key` when `node`). */
export function neighbourhood(
  key: string,
  node: boolean,
  edges: { key: string; l: number; i: number; to: number }[],
): { nodes: Set<string>; edges: Set<string> } {
  const ends = (e: { l: number; i: number; to: number }): [string, string] => [nodeKey(e.l, e.i), nodeKey(e.l + 1, e.to)];
  const nodes = new Set<string>();
  if (node) nodes.add(key);
  else {
    const e = edges.find((x) => x.key === key);
    if (e) ends(e).forEach((n) => nodes.add(n));
  }
  const lit = new Set<string>();
  for (const e of edges) {
    const [a, b] = ends(e);
    if (nodes.has(a) || nodes.has(b)) lit.add(e.key);
  }
  if (!node) lit.add(key);
  return { nodes, edges: lit };
}

export class Highlighter {
  private lit: Element[] = [];
  private current: string | null = null;

  constructor(private svg: SVGSVGElement) {}

  /** Light the neighbourhood of edge or node `key` among the shown `views`. */
  show(key: string, node: boolean, views: EdgeView[], nodeEl: (key: string) => Element | undefined): void {
    const id = (node ? "n" : "e") + key;
    if (id === this.current) return;
    this.clear();
    this.current = id;
    const { nodes, edges } = neighbourhood(
      key,
      node,
      views.map((v) => ({ key: v.key, l: v.pos.edge.l, i: v.pos.edge.i, to: v.pos.edge.to })),
    );
    for (const v of views) if (edges.has(v.key)) this.lit.push(v.group, v.line);
    nodes.forEach((k) => {
      const el = nodeEl(k);
      if (el) this.lit.push(el);
    });
    for (const el of this.lit) el.classList.add("kw-hl");
    this.svg.classList.add("kw-hovering");
  }

  clear(): void {
    for (const el of this.lit) el.classList.remove("kw-hl");
    this.lit = [];
    this.current = null;
    this.svg.classList.remove("kw-hovering");
  }
}
