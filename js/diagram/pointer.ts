// The pointer on the diagram: what is under it (from the layout's geometry where the SVG
// has a size, from the DOM hooks otherwise, e.g. in jsdom), clicks that select an edge or
// unfold the collapsed inputs, hover that lights a neighbourhood, and what a drag picks up.
// A line is a 1 px stroke with no wider hit stroke of its own (edges.ts): pointing within a
// few px of it (off any plot or node) hovers it, found from the layout as clicks are.
import type { DragTarget } from "./drag";
import type { EdgeView } from "./edges";
import type { Highlighter } from "./highlight";
import { hitTest, type Hit } from "./hit";
import type { Layout } from "./layout";

/** What the pointer needs from the diagram. */
export interface PointerHost {
  svg: SVGSVGElement;
  el: HTMLElement; // has kw-dragging while a drag is under way
  hover: Highlighter;
  layout(): Layout | null;
  shown(): EdgeView[];
  view(key: string): EdgeView | undefined;
  nodeEl(key: string): SVGGElement | undefined;
  suppressClick(): boolean; // a drag just ended: its click selects nothing
  expandInputs(): void;
  select(key: string): void;
  pruneEdge(edge: number[]): void;
  pruneNode(node: number[]): void;
  describe(key: string): void; // bring an edge's tooltip up to date (it is about to show)
}

export class DiagramPointer {
  constructor(private host: PointerHost) {
    host.svg.addEventListener("click", this.onClick);
    host.svg.addEventListener("pointerover", this.onOver);
    host.svg.addEventListener("pointermove", this.onMove);
    host.svg.addEventListener("pointerleave", this.onLeave);
  }

  /** Nothing drawn under the pointer (panning may start). */
  isBackground(e: MouseEvent): boolean {
    return this.hitAt(e) === null && !this.domHit(e.target);
  }

  /** Layout coordinates of a pointer event, or null where the SVG has no size (jsdom). */
  private pointAt(e: MouseEvent): [number, number] | null {
    const lay = this.host.layout();
    const r = this.host.svg.getBoundingClientRect();
    if (!lay || !(r.width > 0) || !(r.height > 0)) return null;
    return [((e.clientX - r.left) * lay.width) / r.width, ((e.clientY - r.top) * lay.height) / r.height];
  }

  private hitAt(e: MouseEvent): Hit {
    const p = this.pointAt(e);
    const lay = this.host.layout();
    if (!p || !lay) return null;
    const shownIdx = new Set(this.host.shown().map((v) => v.index));
    return hitTest(lay, p[0], p[1], (i) => shownIdx.has(i));
  }

  /** What the event's target is, from the DOM (used where geometry is unavailable). */
  private domHit(t: EventTarget | null): Hit {
    if (!(t instanceof Element)) return null;
    const edge = t.closest("[data-edge]") ?? t.closest("[data-line]");
    if (edge) {
      const key = edge.getAttribute("data-edge") ?? edge.getAttribute("data-line")!;
      const part = edge.hasAttribute("data-edge") ? "plot" : "line";
      return { kind: "edge", key, index: this.host.view(key)?.index ?? -1, part };
    }
    const node = t.closest("[data-node]");
    return node ? { kind: "node", key: node.getAttribute("data-node")! } : null;
  }

  private hit(e: MouseEvent): Hit {
    return this.pointAt(e) ? this.hitAt(e) : this.domHit(e.target);
  }

  private onClick = (e: MouseEvent): void => {
    if (this.host.suppressClick()) return;
    if (e.target instanceof Element && e.target.closest("[data-collapsed]")) {
      this.host.expandInputs();
      return;
    }
    const h = this.hit(e);
    if (h?.kind === "edge") this.host.select(h.key);
  };

  private onOver = (e: PointerEvent): void => {
    if (this.host.el.classList.contains("kw-dragging")) return;
    let h = this.domHit(e.target);
    if (!h || (h.kind === "edge" && h.part === "line")) h = this.pointAt(e) ? this.hitAt(e) : h;
    this.host.svg.classList.toggle("kw-on-line", h?.kind === "edge" && h.part === "line");
    // an edge hidden in place (opacity 0, diagram.ts show) is still under the pointer
    if (h?.kind === "edge" && !this.host.shown().some((v) => v.key === h!.key)) h = null;
    if (h?.kind === "edge") this.host.describe(h.key);
    if (!h) this.host.hover.clear();
    else this.host.hover.show(h.key, h.kind === "node", this.host.shown(), (k) => this.host.nodeEl(k));
  };

  /** Off plots and nodes, the line nearest the pointer (if close) is hovered. */
  private onMove = (e: PointerEvent): void => {
    const t = e.target;
    if (t instanceof Element && (t.closest("[data-edge]") || t.closest("[data-node]"))) return; // onOver has it
    this.onOver(e);
  };

  private onLeave = (): void => {
    this.host.svg.classList.remove("kw-on-line");
    this.host.hover.clear();
  };

  /** What a drag starting at `e` picks up: an edge's plot or a node, with its prune action. */
  pick(e: PointerEvent): DragTarget | null {
    const h = this.hit(e);
    if (h?.kind === "edge" && h.part === "plot") {
      const view = this.host.view(h.key);
      if (!view) return null;
      const edge = h.key.split(",").map(Number);
      return { el: view.group, drop: () => this.host.pruneEdge(edge) };
    }
    if (h?.kind === "node") {
      const el = this.host.nodeEl(h.key);
      const node = h.key.split(",").map(Number);
      return el ? { el, drop: () => this.host.pruneNode(node) } : null;
    }
    return null;
  }

  dispose(): void {
    this.host.svg.removeEventListener("click", this.onClick);
    this.host.svg.removeEventListener("pointerover", this.onOver);
    this.host.svg.removeEventListener("pointermove", this.onMove);
    this.host.svg.removeEventListener("pointerleave", this.onLeave);
  }
}
