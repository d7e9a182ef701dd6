// A view that outlives JupyterLab's re-render of its output. After every change the kernel
// refreshes the SVG stored beside the widget (what code hosts and VS Code show) with an
// update_display_data message; JupyterLab then empties the output node and asks for a new
// view of the same model, without disposing the old one. Building a new view there would
// lose what the user set up: zoom, pan and scroll, the open inspector, focus. Instead
// render() hands the detached view the new host (`claim`), so the live view stays as it was.
// A detached view that no render claims within GRACE_MS disposes itself (see View.retired).
import type { WidgetModel } from "./model";

/** How long a detached view waits for a new host before it disposes itself (ms). */
export const GRACE_MS = 5000;

export interface Reattachable {
  /** True if this view draws `model` (anywidget gives every view its own proxy). */
  draws(model: WidgetModel): boolean;
  /** True if the output that held this view has let it go. */
  detached(): boolean;
}

const live = new Set<Reattachable>();

export function track(view: Reattachable): void {
  live.add(view);
}

export function untrack(view: Reattachable): void {
  live.delete(view);
}

/** A detached view of `model`, waiting for a new host (null if none). */
export function claim<V extends Reattachable>(model: WidgetModel): V | null {
  for (const v of live) if (v.detached() && v.draws(model)) return v as V;
  return null;
}

/** Same widget model behind two proxies: the proxies' `get` reads the same trait objects. */
export function sameModel(a: WidgetModel, b: WidgetModel): boolean {
  const sa = a.get("structure");
  const ha = a.get("history");
  return sa != null && ha != null && sa === b.get("structure") && ha === b.get("history");
}

/** Remembers the scroll offsets inside `root`, since a node taken out of the page and put
 * back loses them; `restore` puts them back once `root` is in the page again. */
export class ScrollMemory {
  private offsets = new Map<Element, [number, number]>();

  constructor(private root: HTMLElement) {
    root.addEventListener("scroll", this.onScroll, { capture: true, passive: true });
  }

  private onScroll = (e: Event): void => {
    const t = e.target;
    if (!(t instanceof Element) || !t.isConnected) return; // detached nodes report 0
    this.offsets.set(t, [t.scrollLeft, t.scrollTop]);
  };

  /** Put the offsets back when `root` is laid out again (tries for `frames` frames). */
  restore(frames = 60): void {
    const saved = new Map(this.offsets); // taken now: a reset to 0 on re-entry must not count
    const apply = (left: number): void => {
      if (!this.root.isConnected || !this.root.offsetParent) {
        if (left > 0) requestAnimationFrame(() => apply(left - 1));
        return;
      }
      for (const [el, [x, y]] of saved) {
        if (!this.root.contains(el)) {
          this.offsets.delete(el);
          continue;
        }
        this.offsets.set(el, [x, y]);
        el.scrollLeft = x;
        el.scrollTop = y;
      }
    };
    apply(frames);
  }

  dispose(): void {
    this.root.removeEventListener("scroll", this.onScroll, { capture: true });
    this.offsets.clear();
  }
}
