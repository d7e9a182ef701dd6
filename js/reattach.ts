// A view that outlives JupyterLab's re-render of its output. After every change the kernel
// refreshes the SVG stored beside the widget (what code hosts and VS Code show) with an
// update_display_data message; JupyterLab then empties the output node and asks for a new
// view of the same model, without disposing the old one. Building a new view there would
// lose what the user set up: zoom, pan and scroll, the open inspector, focus. Instead
// render() hands the detached view the new host (`claim`), so the live view stays as it was.
// A detached view that no render claims within GRACE_MS disposes itself (see View.retired).
// A node taken out of the page loses its computed style: put back at once, a 515-edge
// diagram (~3900 SVG elements) is styled and laid out again in one task of 50-70 ms inside
// JupyterLab (whose 4600 CSS rules every element is matched against). StagedEntry puts the
// diagram's layers back a batch per animation frame instead, so no task is long.
import type { WidgetModel } from "./model";

/** How long a detached view waits for a new host before it disposes itself (ms). */
export const GRACE_MS = 5000;

/** Most elements put back into the page per animation frame by StagedEntry. */
export const ENTRY_BATCH = 600;

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

const INPUT_EVENTS = ["pointerdown", "keydown", "wheel"] as const;

/** Elements `el` puts into the page: itself and its descendants. */
const weight = (el: Element): number => el.getElementsByTagName("*").length + 1;

/** Puts the children of `layers` (e.g. the diagram's SVG layers) back into the page a batch
 * of at most `batch` elements (descendants counted) per animation frame, in their order,
 * from the second frame `root` is in the page. Layers of `batch` elements or fewer in all go back at once.
 * `finish()` puts everything back now: the owner calls it before it redraws, and user
 * input inside `root` (pointer, key, wheel) does too. `done` runs when all are back. */
export class StagedEntry {
  private queue: [Element, Element[]][] = [];
  private frame: number | null = null;
  private placed = false; // `root` was in the page at the last frame

  constructor(
    private root: HTMLElement,
    layers: Element[],
    private done: () => void = () => {},
    private batch = ENTRY_BATCH,
  ) {
    const total = layers.reduce((n, l) => n + l.getElementsByTagName("*").length, 0);
    if (total <= batch) return;
    for (const layer of layers) {
      if (!layer.children.length) continue;
      this.queue.push([layer, Array.from(layer.children)]);
      layer.replaceChildren();
    }
    for (const ev of INPUT_EVENTS) root.addEventListener(ev, this.finishNow, { capture: true });
    this.schedule();
  }

  /** Elements still out of the page (their subtrees counted). */
  get waiting(): number {
    return this.queue.reduce((n, [, kids]) => n + kids.reduce((m, k) => m + weight(k), 0), 0);
  }

  private finishNow = (): void => this.finish();

  private schedule(): void {
    if (this.frame != null || !this.queue.length) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = null;
      this.step();
    });
  }

  /** One batch, from the second frame `root` is in the page (the host may be placed a task
   * later; the first frame styles the rest of the view). */
  private step(): void {
    if (!this.root.isConnected || !this.placed) {
      this.placed = this.root.isConnected;
      return this.schedule();
    }
    let left = this.batch;
    while (this.queue.length && left > 0) {
      const [layer, kids] = this.queue[0];
      let k = 0;
      while (k < kids.length && left > 0) left -= weight(kids[k++]);
      layer.append(...kids.splice(0, k));
      if (!kids.length) this.queue.shift();
    }
    if (this.queue.length) this.schedule();
    else this.end();
  }

  /** Put every waiting element back now. */
  finish(): void {
    if (!this.queue.length) return;
    if (this.frame != null) cancelAnimationFrame(this.frame);
    this.frame = null;
    for (const [layer, kids] of this.queue) layer.append(...kids);
    this.queue = [];
    this.end();
  }

  private end(): void {
    for (const ev of INPUT_EVENTS) this.root.removeEventListener(ev, this.finishNow, { capture: true });
    this.done();
  }
}
