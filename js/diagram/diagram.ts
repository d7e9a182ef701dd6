// The network diagram. `build` lists the drawable edges when `structure` (or
// show_pruned) changes; `relayout` places the shown ones for the available width (nodes
// ordered to reduce crossings, faint edges of large models left out, wide input layers
// collapsed; an edge's DOM is made when it is first laid out); curves, scores and
// selection update in place so 10 frames/s stay cheap: a training frame rewrites paths and
// opacities of the existing nodes, in slices (redraw.ts); tooltips are written on hover.
// The pointer (hit, click, hover, drag pick) is pointer.ts; row placement of plots rows.ts.
// UI-only state here: zoom, hide-faint choice, expanded inputs, hover.
import type { Structure } from "../model";
import { html, svg } from "../plot";
import { DiagramControls } from "./controls";
import { attachDrag } from "./drag";
import { createEdges, placeEdge, setTitle, type EdgeData, type EdgeView, type NewEdge } from "./edges";
import { edgeOpacity, faintEdges, LARGE_MODEL, opacityMoved } from "./faint";
import { Highlighter } from "./highlight";
import { importance, MAX_INPUTS } from "./inputs";
import { DEFAULT_WIDTH, layout, type EdgePos, type Layout } from "./layout";
import { nodeMarkup } from "./nodes";
import { DiagramPointer } from "./pointer";
import { FRAME_PLOTS, Redraw } from "./redraw";
import { Viewport } from "./viewport";

export { edgeOpacity } from "./faint";

export interface DiagramEvents {
  select(edge: number[]): void;
  pruneEdge(edge: number[]): void;
  pruneNode(node: number[]): void;
  laidOut?(): void; // edges or nodes were (re)made or moved (keyboard stops follow)
  beforeChange?(): void; // edges are about to be added to, moved in or taken out of the layers
}

const SETTLE_MS = 800; // scores unchanged this long (e.g. training ended): lay faint edges out again

export class Diagram {
  readonly el: HTMLElement;
  private scroll: HTMLElement;
  private svg: SVGSVGElement;
  private trash: HTMLElement;
  private lines: SVGGElement;
  private plots: SVGGElement;
  private nodeLayer: SVGGElement;
  private controls: DiagramControls;
  private drawable = new Map<string, number>(); // key -> index of every drawable edge
  private views = new Map<string, EdgeView>(); // the drawable edges laid out so far (made on first use)
  private shown: EdgeView[] = []; // laid out and not hidden in place (drawn, hit, lit)
  private nodeEls = new Map<string, SVGGElement>();
  private structure: Structure = {} as Structure;
  private showPruned = false;
  private data: EdgeData = { p: 0, s: 0 };
  private redraw: Redraw;
  private scores: Float32Array | undefined;
  private beta = 3;
  private faint = new Set<number>();
  private laidOut = new Set<number>(); // faint set the current layout left out
  private hideFaint: boolean | null = null; // null: by model size
  private expandInputs = false;
  private selected: string | null = null;
  private lay: Layout | null = null;
  private width = 0;
  private seenWidth = 0; // content width of the scroll box, from the ResizeObserver
  private settle: ReturnType<typeof setTimeout> | null = null;
  private relaying = false;
  private viewport: Viewport;
  private hover: Highlighter;
  private observer: ResizeObserver | null = null;
  private disposeDrag: () => void;
  private suppressClick: () => boolean;
  private pointer: DiagramPointer;
  private waiting = false; // built before the page placed us: laid out once the width is known

  constructor(private events: DiagramEvents) {
    this.el = html("div", "kw-diagram");
    this.scroll = html("div", "kw-scroll", "", this.el);
    this.svg = svg("svg", { class: "kw-svg", role: "img" }, this.scroll);
    this.lines = svg("g", { class: "kw-lines" }, this.svg);
    this.plots = svg("g", { class: "kw-plots" }, this.svg);
    this.nodeLayer = svg("g", { class: "kw-nodes" }, this.svg);
    this.trash = html("div", "kw-trash", "drop here to prune", this.el);
    this.trash.title = "drag an edge's plot or a node here (or out of the diagram) to prune it";
    this.hover = new Highlighter(this.svg);
    this.redraw = new Redraw({
      shown: () => this.shown,
      selected: () => (this.selected ? this.views.get(this.selected) : undefined),
      data: () => this.data,
    });
    this.pointer = new DiagramPointer({
      svg: this.svg,
      el: this.el,
      hover: this.hover,
      layout: () => this.lay,
      shown: () => this.shown,
      view: (key) => this.views.get(key),
      nodeEl: (key) => this.nodeEls.get(key),
      suppressClick: () => this.suppressClick(),
      expandInputs: () => {
        this.expandInputs = true;
        this.relayout();
      },
      select: (key) => {
        this.setSelected(key);
        this.events.select(key.split(",").map(Number));
      },
      pruneEdge: (edge) => this.events.pruneEdge(edge),
      pruneNode: (node) => this.events.pruneNode(node),
      describe: (key) => this.describe(key),
    });
    this.viewport = new Viewport(this.scroll, this.svg, (e) => this.pointer.isBackground(e));

    this.controls = new DiagramControls({
      zoom: (f) => this.viewport.setZoom(f === "fit" ? this.viewport.fitZoom() : this.viewport.zoom * f),
      hideFaint: (hide) => {
        this.hideFaint = hide;
        this.refreshFaint(true);
      },
      collapseInputs: () => {
        this.expandInputs = false;
        this.relayout();
      },
    });
    this.el.prepend(this.controls.el);

    const drag = attachDrag({
      svg: this.svg,
      area: this.el,
      trash: this.trash,
      pick: (e) => this.pointer.pick(e),
      start: () => this.hover.clear(),
    });
    this.disposeDrag = drag.dispose;
    this.suppressClick = drag.suppressClick;
    if (typeof ResizeObserver !== "undefined") {
      this.observer = new ResizeObserver((entries) => {
        // the observer reports the width: reading clientWidth would force a layout
        const w = entries[entries.length - 1].contentRect.width;
        this.seenWidth = w;
        if (w > 0 && (this.waiting || (this.lay && Math.abs(w - this.width) > 4))) this.relayout();
      });
      this.observer.observe(this.scroll);
    }
  }

  /**
   * Rebuild every edge view from a new structure; `scores` (as for setScores) lets the first
   * layout leave the faint edges out at once.
   */
  build(s: Structure, showPruned: boolean, scores?: [Float32Array | undefined, number, Float32Array | undefined]): void {
    this.structure = s;
    if (scores) [this.scores, this.beta, this.nodeScores] = scores;
    this.showPruned = showPruned;
    this.plots.replaceChildren();
    this.lines.replaceChildren();
    this.views.clear();
    this.redraw.rebuilt();
    this.el.classList.toggle("kw-show-pruned", showPruned);
    this.drawable.clear();
    this.drawableStamp++;
    (s.edges ?? []).forEach((edge, index) => {
      if (edge.active || showPruned) this.drawable.set(`${edge.l},${edge.i},${edge.j}`, index);
    });
    this.faint = this.faintNow();
    // JupyterLab places the output after render(): lay out once, at the width the
    // observer reports then, not first at a guessed width and again at the real one
    this.waiting = !this.lay && !!this.observer && !this.scroll.isConnected;
    if (!this.waiting) this.relayout();
  }

  /** The DOM of edges first laid out (hidden faint edges cost nothing), made in one go. */
  private create(fresh: EdgePos[], bw: number, bh: number): void {
    const items: NewEdge[] = fresh.map((pos) => ({ pos, opacity: this.opacityOf(pos.index, this.scores?.[pos.index]) }));
    for (const view of createEdges(items, bw, bh, this.lines, this.plots)) {
      view.score = this.scores?.[view.index] ?? null;
      this.views.set(view.key, view);
    }
  }

  get layout(): Layout | null {
    return this.lay;
  }

  /**
   * Place the shown edges and the nodes for the current width and options.
   *
   * @param drawLimit plots drawn in this task, the rest in the next frames (redraw.ts)
   */
  relayout(drawLimit = FRAME_PLOTS): void {
    this.events.beforeChange?.();
    if (this.settle) clearTimeout(this.settle);
    this.settle = null;
    this.waiting = false;
    this.hover.clear();
    const s = this.structure;
    // the last width the observer reported; before its first report, measure once
    this.width = this.seenWidth || this.scroll.clientWidth;
    const hide = this.hiding() ? this.faint : new Set<number>();
    this.laidOut = hide;
    const lay = layout(s, {
      showPruned: this.showPruned,
      width: this.width || DEFAULT_WIDTH,
      hidden: (i) => hide.has(i) && !this.isSelectedIndex(i),
      expandInputs: this.expandInputs,
    });
    this.lay = lay;
    const placed = new Set<string>();
    const fresh: EdgePos[] = [];
    for (const pos of lay.edges) {
      const view = this.views.get(pos.key);
      if (!view) fresh.push(pos);
      else if (placeEdge(view, pos, lay.bw, lay.bh)) this.redraw.invalidate(view.key);
      placed.add(pos.key);
    }
    this.create(fresh, lay.bw, lay.bh);
    this.shown = [];
    for (const view of this.views.values()) this.show(view, placed.has(view.key));
    const lastLayer = lay.nodes.reduce((m, p) => Math.max(m, p.node.l), 0);
    const nIn = s.nodes?.filter((nd) => nd.l === 0).length ?? 0;
    const imp = importance(this.nodeScores, nIn);
    const connected = new Set<string>();
    for (const v of this.shown) {
      if (!v.pos.edge.active) continue;
      connected.add(`${v.pos.edge.l},${v.pos.edge.i}`);
      connected.add(`${v.pos.edge.l + 1},${v.pos.edge.to}`);
    }
    // every node from one markup string, parsed once (in the order of lay.nodes)
    const markup = lay.nodes.map((p) => {
      const isInput = p.node.l === 0 && !p.collapsed;
      const isolated = p.node.l > 0 && p.node.l < lastLayer && !connected.has(p.key);
      return nodeMarkup(p, s, lastLayer, { rotate: lay.rotateInputs, importance: isInput && imp ? imp[p.node.i] : null }, isolated);
    });
    this.nodeLayer.innerHTML = markup.join("");
    this.nodeEls.clear();
    let g = this.nodeLayer.firstElementChild as SVGGElement | null;
    for (const p of lay.nodes) {
      this.nodeEls.set(p.key, g!);
      g = g!.nextElementSibling as SVGGElement | null;
    }
    this.svg.setAttribute("viewBox", `0 0 ${lay.width} ${lay.height}`);
    this.viewport.setSize(lay.width, lay.height);
    this.redraw.draw(drawLimit);
    this.updateBar();
    this.relaying = true;
    if (this.selected) this.setSelected(this.selected);
    this.relaying = false;
    this.events.laidOut?.();
  }

  /** Redraw the shown plots from new curves / samples (hidden ones are drawn when shown). */
  setData(data: EdgeData): void {
    this.data = data;
    this.redraw.newData();
  }

  /** Edge opacity from attribution scores (one per edge of `structure.edges`). */
  setScores(scores: Float32Array | undefined, beta: number, nodeScores?: Float32Array): void {
    this.scores = scores;
    this.beta = beta;
    const inputsChanged = nodeScores !== this.nodeScores;
    this.nodeScores = nodeScores;
    for (const view of this.views.values()) {
      view.score = scores?.[view.index] ?? null; // drawn as opacity when shown (show)
      view.titled = false;
    }
    // a structure just built is laid out with its faint set at once; during training, later
    this.refreshFaint(this.redraw.fresh);
    if (inputsChanged) this.updateImportance();
  }

  private nodeScores: Float32Array | undefined;

  /** Highlight one edge ("l,i,j") or none. */
  setSelected(key: string | null): void {
    const old = this.selected ? this.views.get(this.selected) : undefined;
    old?.group.classList.remove("kw-selected");
    old?.line.classList.remove("kw-selected");
    this.selected = key;
    if (!key || !this.drawable.has(key)) return;
    if (this.lay && !this.relaying && !this.lay.edges.some((e) => e.key === key)) {
      this.relayout(); // a faint edge left out: lay it out (relayout selects it again)
      return;
    }
    const view = this.views.get(key);
    if (!view) return;
    view.group.classList.add("kw-selected");
    view.line.classList.add("kw-selected");
    if (this.isHiddenInPlace(view)) this.refreshFaint(false);
  }

  dispose(): void {
    this.redraw.dispose();
    if (this.settle) clearTimeout(this.settle);
    this.observer?.disconnect();
    this.disposeDrag();
    this.viewport.dispose();
    this.pointer.dispose();
  }

  // ------------------------------------------------------------------ faint edges
  private hiding(): boolean {
    return this.hideFaint ?? this.drawable.size > LARGE_MODEL;
  }

  private faintNow(): Set<number> {
    // a build and the setScores after it ask with the same scores: computed once
    const memo = this.faintMemo;
    if (memo && memo.scores === this.scores && memo.beta === this.beta && memo.drawable === this.drawableStamp) return memo.set;
    const edges = this.structure.edges ?? [];
    const out = new Set<number>();
    faintEdges(this.drawable.values(), this.scores, this.beta, (e) => edges[e]?.l ?? 0).forEach((i) => out.add(i));
    this.faintMemo = { scores: this.scores, beta: this.beta, drawable: this.drawableStamp, set: out };
    return out;
  }

  private faintMemo: { scores: Float32Array | undefined; beta: number; drawable: number; set: Set<number> } | null = null;
  private drawableStamp = 0; // changes with the drawable set (build)

  private isSelectedIndex(i: number): boolean {
    return !!this.selected && this.drawable.get(this.selected) === i;
  }

  private isHiddenInPlace(view: EdgeView): boolean {
    return this.hiding() && this.faint.has(view.index) && !this.isSelectedIndex(view.index);
  }

  /** The opacity an edge is drawn at (0: hidden in place, see show). */
  private opacityOf(index: number, score: number | null | undefined): number {
    if (this.hiding() && this.faint.has(index) && !this.isSelectedIndex(index)) return 0;
    return edgeOpacity(score ?? undefined, this.beta);
  }

  /**
   * New faint set: hide / show plots in place at once (cheap, fine during training); lay the
   * diagram out again at once when the user asked, else once the scores settle.
   */
  private refreshFaint(now: boolean): void {
    this.faint = this.faintNow();
    if (this.waiting) return; // the first layout (once placed) uses this set
    const placed = new Set(this.lay?.edges.map((e) => e.key));
    const same = this.hiding() ? sameSet(this.faint, this.laidOut) : this.laidOut.size === 0;
    if (now && !same) {
      this.relayout();
      return;
    }
    this.shown = [];
    this.events.beforeChange?.();
    for (const view of this.views.values()) this.show(view, placed.has(view.key));
    this.redraw.draw(now ? FRAME_PLOTS : 0); // a training frame: its data comes next (setData)
    this.updateBar();
    if (!same) {
      if (this.settle) clearTimeout(this.settle);
      this.settle = setTimeout(() => this.relayout(), SETTLE_MS);
    }
  }

  /**
   * Show or hide one edge. An edge the layout left out is taken out of the DOM (no style to
   * recompute, unlike display: none); one hidden in place (turned faint while scores stream,
   * until they settle and the diagram is laid out again) is drawn at opacity 0 and left out of
   * `shown` (no redraw, hit, hover or highlight): a new opacity restyles two elements, while
   * hiding would rebuild and lay out their subtrees, and at the start of training 100+ edges
   * turn faint or back per frame.
   */
  private show(view: EdgeView, placed: boolean): void {
    if (placed !== (view.group.parentNode === this.plots)) {
      if (placed) {
        this.lines.appendChild(view.line);
        this.plots.appendChild(view.group);
      } else {
        view.line.remove();
        view.group.remove();
      }
    }
    if (!placed) return; // its opacity is written when it is laid out again
    const o = this.opacityOf(view.index, view.score);
    if (o > 0) this.shown.push(view);
    if (o === 0 ? view.opacity !== 0 : opacityMoved(view.opacity, o)) {
      const text = o.toFixed(3);
      view.group.setAttribute("opacity", text);
      // the line's stroke, not its group: a group's opacity starts a paint chunk of its own
      view.line.setAttribute("stroke-opacity", text);
      view.opacity = o;
    }
  }

  /** The tooltip of an edge, brought up to date when the pointer reaches it. */
  private describe(key: string): void {
    const view = this.views.get(key);
    if (!view || view.titled) return;
    setTitle(view, view.score);
    view.titled = true;
  }

  private updateBar(): void {
    const nIn = this.lay?.nodes.filter((p) => p.node.l === 0).length ?? 0;
    this.controls.update(this.faint.size, this.hiding(), this.hideFaint !== null, this.expandInputs && nIn > MAX_INPUTS);
  }

  /** Importance bars follow the input scores in place (a first set of scores adds them). */
  private updateImportance(): void {
    const inputs = this.lay?.nodes.filter((p) => p.node.l === 0 && !p.collapsed) ?? [];
    const n = this.structure.nodes?.filter((nd) => nd.l === 0).length ?? inputs.length;
    const imp = importance(this.nodeScores, n);
    for (const p of inputs) {
      const bar = this.nodeEls.get(p.key)?.querySelector(".kw-importance");
      if (!bar && imp) return this.relayout();
      const w = imp ? Math.round(Math.max(1, 26 * imp[p.node.i]) * 10) / 10 : 0;
      bar?.setAttribute("width", String(w));
    }
  }
}

function sameSet(a: Set<number>, b: Set<number>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}
