// Keyboard access to the diagram: nodes and edges form one Tab stop (roving tabindex,
// ordered layer by layer: the layer's nodes, then its edges). Arrows, Home and End move;
// Enter or Space inspects an edge; Delete / Backspace prunes the focused edge or node;
// Escape closes the inspector. Keys it uses never reach JupyterLab's shortcuts.
// It works on the DOM hooks of the contract (data-edge, data-node), not the diagram's code.

export interface DiagramKeyEvents {
  select(edge: number[]): void;
  pruneEdge(edge: number[]): void;
  pruneNode(node: number[]): void;
  escape(): void;
}

type Item = SVGElement | HTMLElement;

const ids = (el: Element): number[] => (el.getAttribute("data-edge") ?? el.getAttribute("data-node") ?? "").split(",").map(Number);

const rank = (el: Element): number[] => {
  const [l, i, j] = ids(el);
  return el.hasAttribute("data-edge") ? [l, 1, i, j] : [l, 0, i, 0];
};
const before = (a: number[], b: number[]): number => a[0] - b[0] || a[1] - b[1] || a[2] - b[2] || a[3] - b[3];

/** Diagram items in keyboard order: per layer, its nodes (by i) then its edges (by i, j). */
export function keyboardOrder(items: Element[]): Element[] {
  return items
    .map((el) => ({ el, r: rank(el) }))
    .sort((a, b) => before(a.r, b.r))
    .map(({ el }) => el);
}

/** The first of `items` in keyboard order (no sort: a relayout of 500 edges asks for it). */
export function firstInOrder<T extends Element>(items: T[]): T | undefined {
  let best: T | undefined;
  let bestRank: number[] = [];
  for (const el of items) {
    const r = rank(el);
    if (!best || before(r, bestRank) < 0) [best, bestRank] = [el, r];
  }
  return best;
}

export class DiagramKeys {
  private current: string | null = null; // "edge:l,i,j" | "node:l,i"
  private focused = false;

  constructor(private root: HTMLElement, private events: DiagramKeyEvents) {
    root.addEventListener("keydown", this.onKey);
    root.addEventListener("focusin", this.onFocus);
    root.addEventListener("focusout", this.onBlur);
  }

  private items(): Item[] {
    return keyboardOrder(Array.from(this.root.querySelectorAll("[data-edge], [data-node]"))) as Item[];
  }

  private keyOf(el: Element): string {
    return el.hasAttribute("data-edge") ? `edge:${el.getAttribute("data-edge")}` : `node:${el.getAttribute("data-node")}`;
  }

  /** The item of key "edge:l,i,j" / "node:l,i", if drawn. */
  private find(key: string | null): Item | undefined {
    const m = key?.match(/^(edge|node):([-\d,]+)$/);
    return m ? (this.root.querySelector<Item>(`[data-${m[1]}="${m[2]}"]`) ?? undefined) : undefined;
  }

  /** After the diagram is (re)built: one Tab stop, focus kept on the same item if it had it. */
  refresh(prefer: string | null = null): void {
    // document order: the stop is found without sorting (keyboard order matters for arrows only)
    const items = Array.from(this.root.querySelectorAll<Item>("[data-edge], [data-node]"));
    if (prefer && !this.focused) this.current = `edge:${prefer}`;
    const stop = this.find(this.current) ?? firstInOrder(items);
    for (const el of items) {
      // every relayout calls this: write only what changed (new items, the moved stop)
      const tab = el === stop ? 0 : -1;
      if (el.tabIndex !== tab || !el.hasAttribute("tabindex")) el.tabIndex = tab;
      if (el.hasAttribute("aria-label")) continue;
      if (el.hasAttribute("data-edge")) el.setAttribute("aria-label", `edge ${el.getAttribute("data-edge")}`);
      else el.setAttribute("aria-label", `node ${el.getAttribute("data-node")}`);
    }
    const lost = !document.activeElement || document.activeElement === document.body;
    if (this.focused && lost && stop) stop.focus({ preventScroll: true });
  }

  private onFocus = (e: FocusEvent): void => {
    const t = (e.target as Element | null)?.closest?.("[data-edge], [data-node]");
    if (!t) return;
    this.focused = true;
    this.current = this.keyOf(t);
    for (const el of this.items()) el.tabIndex = el === t ? 0 : -1;
  };

  private onBlur = (e: FocusEvent): void => {
    const to = e.relatedTarget as Node | null;
    if (to && !this.root.contains(to)) this.focused = false;
  };

  private onKey = (e: KeyboardEvent): void => {
    const t = (e.target as Element | null)?.closest?.("[data-edge], [data-node]");
    if (!t || e.ctrlKey || e.metaKey || e.altKey) return;
    const items = this.items();
    const at = items.indexOf(t as Item);
    const isEdge = t.hasAttribute("data-edge");
    let to = -1;
    switch (e.key) {
      case "ArrowRight":
      case "ArrowDown":
        to = Math.min(items.length - 1, at + 1);
        break;
      case "ArrowLeft":
      case "ArrowUp":
        to = Math.max(0, at - 1);
        break;
      case "Home":
        to = 0;
        break;
      case "End":
        to = items.length - 1;
        break;
      case "Enter":
      case " ":
        if (isEdge) this.events.select(ids(t));
        break;
      case "Delete":
      case "Backspace":
        if (isEdge) this.events.pruneEdge(ids(t));
        else this.events.pruneNode(ids(t));
        break;
      case "Escape":
        this.events.escape();
        break;
      default:
        return;
    }
    e.preventDefault();
    e.stopPropagation();
    if (to >= 0 && to !== at) items[to].focus();
  };

  dispose(): void {
    this.root.removeEventListener("keydown", this.onKey);
    this.root.removeEventListener("focusin", this.onFocus);
    this.root.removeEventListener("focusout", this.onBlur);
  }
}
