// Which plots are older than the curves, and drawing them without long tasks. Every draw
// (a new structure's first data, a relayout, a training frame) does at most FRAME_PLOTS
// plots per task and the rest in the following animation frames, so a task stays short
// however big the model (issue 14: a 500-edge model shown in < 200 ms, no long task > 50 ms
// while training): a first render shows lines, nodes, boxes and the first slice of plots at
// once and fills in the other plots over the next frames. A tail shorter than half a slice
// is drawn with it; the first slice of a new structure of more than 1.5 slices is half a slice
// (FIRST_PLOTS). While a new structure's plots are drawn for the first time (filled in), a
// slice in an animation frame goes on while its script has taken less than SLICE_MS (up to
// MAX_SLICE plots): once V8 has optimised the drawing, a frame fills in up to twice as many
// plots, and on a loaded machine (where the clock runs out sooner) no more than before;
// training frames keep FRAME_PLOTS per task (the style, layout and paint after a slice grow
// with it, and at 10 frames/s every task counts). The selected plot goes first, then round
// robin from where the last slice stopped: a plot far down the list is not starved when frames come faster than they are
// drawn, and every slice draws the newest data. DOM nodes are reused: a redraw only
// rewrites the paths' `d`.
import { drawEdge, type EdgeData, type EdgeView } from "./edges";

// 32 plots' paths, their style, layout and paint: ~15-20 ms of CPU on a 2-core VM
export const FRAME_PLOTS = 32;
// filling in: a slice in an animation frame goes on while its script is this short (ms), up to
// MAX_SLICE plots (the style, layout and paint that follow grow with the plots drawn)
export const SLICE_MS = 5;
export const MAX_SLICE = 2 * FRAME_PLOTS;
// the first slice of a new structure (no plot drawn yet): its task also makes the DOM and runs
// code V8 has not optimised yet
export const FIRST_PLOTS = FRAME_PLOTS / 2;

/** What the redraw reads from the diagram. */
export interface RedrawHost {
  shown(): EdgeView[]; // laid out and visible, in drawing order
  selected(): EdgeView | undefined;
  data(): EdgeData;
}

export class Redraw {
  private stamp = 0; // version of the data
  private built = -1; // `stamp` when the structure was built: nothing to draw until new data
  private stamps = new Map<string, number>(); // key -> version its plot shows
  private cursor = 0; // where the last slice stopped
  private pending: (() => void) | null = null; // cancels the scheduled slice
  private disposed = false;

  constructor(
    private host: RedrawHost,
    private now: () => number = () => performance.now(),
  ) {}

  /** A new structure: every plot is stale, and the data that follows is drawn at once. */
  rebuilt(): void {
    this.stamps.clear();
    this.built = this.stamp;
    this.filling = true;
  }

  private filling = false; // a new structure's plots are not all drawn yet

  /** No data has come since the structure was built. */
  get fresh(): boolean {
    return this.stamp === this.built;
  }

  /** New curves: draw them, a slice now and the rest in the next animation frames. */
  newData(): void {
    this.stamp++;
    this.draw(FRAME_PLOTS);
  }

  /** The plot of `key` must be drawn again (e.g. its box changed size). */
  invalidate(key: string): void {
    this.stamps.delete(key);
  }

  /** Plots not yet drawn with the current data (0 once a frame is fully drawn). */
  get staleCount(): number {
    return this.host.shown().filter((v) => this.stale(v)).length;
  }

  private stale(v: EdgeView): boolean {
    return this.stamps.get(v.key) !== this.stamp;
  }

  /**
   * Draw up to `limit` stale plots now, and more (up to MAX_SLICE) while the clock is before
   * `until`; schedule the rest for the next animation frames.
   */
  draw(limit = FRAME_PLOTS, until = -Infinity): void {
    if (this.fresh) return; // a new structure: its data comes next (newData)
    const data = this.host.data();
    const paint = (v: EdgeView): void => {
      drawEdge(v, data);
      this.stamps.set(v.key, this.stamp);
    };
    const shown = this.host.shown();
    // a tail shorter than half a slice goes with this one (no extra frame of latency for it)
    let budget = this.staleCount <= 1.5 * limit ? Infinity : limit;
    if (!this.stamps.size && this.staleCount > 1.5 * FRAME_PLOTS) budget = Math.min(budget, FIRST_PLOTS);
    const sel = this.host.selected();
    if (sel && this.stale(sel) && shown.includes(sel)) {
      paint(sel);
      budget--;
    }
    const n = shown.length;
    let k = 0;
    let painted = 0;
    for (; k < n; k++) {
      if (budget <= 0 && !(painted < MAX_SLICE && this.now() < until)) break;
      const view = shown[(this.cursor + k) % n];
      if (!this.stale(view)) continue;
      paint(view);
      budget--;
      painted++;
    }
    this.cursor = n ? (this.cursor + k) % n : 0;
    if (shown.some((v) => this.stale(v))) this.later();
    else this.filling = false;
  }

  /** One slice in the next animation frame (however often asked before it runs). */
  private later(): void {
    if (this.pending || this.disposed) return;
    const run = (): void => {
      this.pending = null;
      if (!this.disposed) this.draw(FRAME_PLOTS, this.filling ? this.now() + SLICE_MS : -Infinity);
    };
    if (typeof requestAnimationFrame === "function") {
      const id = requestAnimationFrame(run);
      this.pending = () => cancelAnimationFrame(id);
    } else {
      const id = setTimeout(run, 16);
      this.pending = () => clearTimeout(id);
    }
  }

  dispose(): void {
    this.disposed = true;
    this.pending?.();
    this.pending = null;
  }
}
