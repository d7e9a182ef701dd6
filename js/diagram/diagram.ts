// The network diagram: builds the SVG when `structure` (or show_pruned) changes, and
// otherwise updates in place (curves, opacity, selection) so 10 frames/s stay cheap.
import type { Structure } from "../model";
import { html, svg } from "../plot";
import { attachDrag } from "./drag";
import { createEdge, drawEdge, setTitle, type EdgeData, type EdgeView } from "./edges";
import { layout, type Layout } from "./layout";
import { createNode } from "./nodes";

export interface DiagramEvents {
  select(edge: number[]): void;
  pruneEdge(edge: number[]): void;
  pruneNode(node: number[]): void;
}

/** Opacity of an edge from its attribution score: tanh(beta * score) (pykan), floored so it stays findable. */
export function edgeOpacity(score: number | undefined, beta: number): number {
  if (score == null || !Number.isFinite(score)) return 1;
  return Math.max(0.05, Math.tanh(beta * score));
}

export class Diagram {
  readonly el: HTMLElement;
  private svg: SVGSVGElement;
  private trash: HTMLElement;
  private edges = new Map<string, EdgeView>();
  private selected: string | null = null;
  private lay: Layout | null = null;
  private disposeDrag: () => void;
  private suppressClick: () => boolean;

  constructor(private events: DiagramEvents) {
    this.el = html("div", "kw-diagram");
    const scroll = html("div", "kw-scroll", "", this.el);
    this.svg = svg("svg", { class: "kw-svg", role: "img" }, scroll);
    this.trash = html("div", "kw-trash", "drop here to prune", this.el);
    this.trash.title = "drag an edge's plot or a node here (or out of the diagram) to prune it";
    this.svg.addEventListener("click", this.onClick);
    const drag = attachDrag({
      svg: this.svg,
      area: this.el,
      trash: this.trash,
      pick: (t) => this.pick(t),
    });
    this.disposeDrag = drag.dispose;
    this.suppressClick = drag.suppressClick;
  }

  /** Rebuild every element from a new structure. */
  build(s: Structure, showPruned: boolean): void {
    const lay = layout(s, showPruned);
    this.lay = lay;
    this.svg.replaceChildren();
    this.edges.clear();
    this.svg.setAttribute("viewBox", `0 0 ${lay.width} ${lay.height}`);
    // Small networks may grow a little; big ones keep readable thumbnails and scroll.
    this.svg.style.maxWidth = `${Math.round(lay.width * 1.6)}px`;
    this.svg.style.minWidth = `${Math.round(Math.min(lay.width, 640 + (lay.width - 640) * 0.5))}px`;
    this.el.classList.toggle("kw-show-pruned", showPruned);
    const lastLayer = lay.nodes.reduce((m, p) => Math.max(m, p.node.l), 0);
    const edgeLayer = svg("g", { class: "kw-edges" });
    for (const pos of lay.edges) {
      const view = createEdge(pos);
      this.edges.set(pos.key, view);
      edgeLayer.appendChild(view.group);
    }
    const nodeLayer = svg("g", { class: "kw-nodes" });
    const connected = new Set<string>();
    for (const { edge } of lay.edges) {
      if (!edge.active) continue;
      connected.add(`${edge.l},${edge.i}`);
      connected.add(`${edge.l + 1},${edge.to}`);
    }
    for (const p of lay.nodes) {
      const g = createNode(p, s, lastLayer);
      if (p.node.l > 0 && p.node.l < lastLayer && !connected.has(p.key)) g.classList.add("kw-isolated");
      nodeLayer.appendChild(g);
    }
    this.svg.append(edgeLayer, nodeLayer);
    if (this.selected) this.setSelected(this.selected);
  }

  get layout(): Layout | null {
    return this.lay;
  }

  /** Redraw every thumbnail from new curves / samples. */
  setData(data: EdgeData): void {
    for (const view of this.edges.values()) drawEdge(view, data);
  }

  /** Edge opacity from attribution scores (one per edge of `structure.edges`). */
  setScores(scores: Float32Array | undefined, beta: number): void {
    for (const view of this.edges.values()) {
      const score = scores?.[view.pos.index];
      view.group.setAttribute("opacity", edgeOpacity(score, beta).toFixed(3));
      setTitle(view, score ?? null);
    }
  }

  /** Highlight one edge ("l,i,j") or none. */
  setSelected(key: string | null): void {
    if (this.selected) this.edges.get(this.selected)?.group.classList.remove("kw-selected");
    this.selected = key;
    if (key) this.edges.get(key)?.group.classList.add("kw-selected");
  }

  dispose(): void {
    this.disposeDrag();
    this.svg.removeEventListener("click", this.onClick);
  }

  private onClick = (e: MouseEvent): void => {
    if (this.suppressClick() || !(e.target instanceof Element)) return;
    const g = e.target.closest("[data-edge]");
    if (!g) return;
    const edge = g.getAttribute("data-edge")!.split(",").map(Number);
    this.setSelected(g.getAttribute("data-edge"));
    this.events.select(edge);
  };

  private pick(t: Element) {
    const thumb = t.closest(".kw-thumb");
    const edgeEl = thumb?.closest("[data-edge]");
    if (thumb && edgeEl) {
      const edge = edgeEl.getAttribute("data-edge")!.split(",").map(Number);
      return { el: thumb as SVGGElement, drop: () => this.events.pruneEdge(edge) };
    }
    const nodeEl = t.closest("[data-node]");
    if (nodeEl) {
      const node = nodeEl.getAttribute("data-node")!.split(",").map(Number);
      return { el: nodeEl as SVGGElement, drop: () => this.events.pruneNode(node) };
    }
    return null;
  }
}
