// anywidget entry: wires the synced traits (model.ts) to the diagram, the panels and the
// timeline. Trait changes are coalesced in a microtask, so a batch sent with hold_sync()
// costs one update (a training frame's curves are drawn in the task after it, so neither
// task is long); only `structure` / `show_pruned` rebuild the diagram. UI-only state
// (the locally selected edge, a pending Fit) lives here; without a kernel, send() does
// nothing. Which controls work is decided in one place (panels/controls.ts) from the
// kernel link (panels/link.ts), the training state, the data and the model.
import { decode, edgeData } from "./codec";
import { Diagram } from "./diagram/diagram";
import { showFrame } from "./frames";
import { FocusMemory } from "./focus";
import { DiagramKeys } from "./keyboard";
import { TRAIT_NAMES, type Action, type Model, type WidgetModel } from "./model";
import { Banner } from "./panels/banner";
import { LINK_NOTES, controls, type ControlName, type Control } from "./panels/controls";
import { lossLabel } from "./panels/format";
import { Inspector } from "./panels/inspector";
import { Link, type LinkOptions } from "./panels/link";
import { ParetoPanel } from "./panels/pareto";
import { Toolbar } from "./panels/toolbar";
import { html } from "./plot";
import { markReadOnly } from "./readonly";
import { GRACE_MS, ScrollMemory, StagedEntry, claim, sameModel, track, untrack, type Reattachable } from "./reattach";
import { Timeline } from "./timeline/timeline";

type Key = keyof Model;
// `frames` is read on demand (frames.ts), never drawn directly.
const KEYS = TRAIT_NAMES.filter((k) => k !== "frames");

const keyOf = (e: number[] | undefined): string | null => (e && e.length === 3 ? e.join(",") : null);

class View implements Reattachable {
  private root: HTMLElement;
  private scrolls: ScrollMemory;
  private focus: FocusMemory;
  private entry: StagedEntry | null = null; // the diagram going back into the page (reattach)
  private dataTimer: ReturnType<typeof setTimeout> | null = null; // a training frame's curves, next task
  private graceTimer: ReturnType<typeof setTimeout> | null = null;
  private linkOptions: LinkOptions;
  private banner = new Banner();
  private toolbar: Toolbar;
  private diagram: Diagram;
  private inspector: Inspector;
  private timeline: Timeline;
  private pareto: ParetoPanel;
  private selected: string | null; // UI state: the edge highlighted / inspected here
  private dirty = new Set<Key>(KEYS);
  private scheduled = false;
  private handlers: [string, () => void][] = [];
  private attached = false; // `host` has been placed in the page
  private disposed = false;
  private link: Link;
  private keys: DiagramKeys;
  private fitPending: ReturnType<typeof setTimeout> | null = null; // Fit pressed, no answer yet
  private controls: Record<ControlName, Control>;

  constructor(private model: WidgetModel, public host: HTMLElement, linkOptions: LinkOptions = {}) {
    const send = (a: Action): void => this.send(a);
    this.linkOptions = linkOptions;
    this.root = html("div", "kanwidget");
    this.root.tabIndex = 0;
    this.root.setAttribute("aria-label", "KAN diagram");
    this.toolbar = new Toolbar({
      send,
      setShowPruned: (v) => this.setShowPruned(v),
      fitStarted: () => this.setFitPending(true),
      formChanged: () => this.applyControls(),
    });
    this.diagram = new Diagram({
      select: (edge) => this.select(edge),
      pruneEdge: (edge) => this.edit({ action: "prune_edge", edge }),
      pruneNode: (node) => this.edit({ action: "prune_node", node }),
      laidOut: () => this.keys.refresh(this.selected),
      // a staged re-entry (reattach) holds the edges out of their layers: put them back first
      beforeChange: () => this.entry?.finish(),
    });
    this.keys = new DiagramKeys(this.diagram.el, {
      select: (edge) => this.select(edge),
      pruneEdge: (edge) => this.edit({ action: "prune_edge", edge }),
      pruneNode: (node) => this.edit({ action: "prune_node", node }),
      escape: () => this.closeInspector(),
    });
    this.inspector = new Inspector({ send, close: () => this.closeInspector() });
    this.timeline = new Timeline(send);
    this.pareto = new ParetoPanel(send);
    const main = html("div", "kw-main", "", this.root);
    main.appendChild(this.diagram.el);
    const side = html("div", "kw-side", "", main);
    side.append(this.pareto.el, this.inspector.el, this.timeline.el);
    this.root.prepend(this.banner.el, this.toolbar.el);
    this.root.addEventListener("keydown", this.onKey);
    host.appendChild(this.root);
    this.controls = this.computeControls();
    this.link = new Link(model, () => this.applyControls(), linkOptions);

    this.selected = keyOf(model.get("selected"));
    this.listen();
    this.scrolls = new ScrollMemory(this.root);
    this.focus = new FocusMemory(this.root);
    track(this);
    this.flush();
    this.focus.restore(100);
    this.noteAttached();
  }

  /** Record when `host` is placed in the output (JupyterLab adds it after render()). */
  private noteAttached(tries = 100): void {
    if (this.disposed) return;
    if (this.host.parentNode) this.attached = true;
    else if (tries > 0) setTimeout(() => this.noteAttached(tries - 1), 50);
  }

  private listen(): void {
    for (const k of KEYS) {
      const h = (): void => this.invalidate(k);
      this.model.on(`change:${k}`, h);
      this.handlers.push([`change:${k}`, h]);
    }
  }

  draws(model: WidgetModel): boolean {
    return !this.disposed && sameModel(this.model, model);
  }

  detached(): boolean {
    return !this.disposed && this.attached && !this.host.parentNode;
  }

  /** Move this view, as it is, into the new output `host` of a re-rendered output
   * (reattach.ts): listen through the new view's model proxy, catch up on changes
   * made while detached, and restore scroll offsets and focus once in the page. */
  reattach(model: WidgetModel, host: HTMLElement): this {
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.graceTimer = null;
    for (const [ev, h] of this.handlers) this.model.off(ev, h);
    this.handlers = [];
    this.link.dispose();
    this.model = model;
    this.host = host;
    this.attached = false;
    this.listen();
    this.link = new Link(model, () => this.applyControls(), this.linkOptions);
    this.flush(); // changes that came while detached (kept pending by retired())
    // out of the page, the diagram has no style left: its edges go back a batch per frame
    // (not its nodes: a relayout replaces the node layer's children; edge views persist)
    this.entry?.finish();
    const layers = Array.from(this.root.querySelectorAll(".kw-svg > .kw-lines, .kw-svg > .kw-plots"));
    this.entry = new StagedEntry(this.root, layers, () => this.focus.restore(100));
    host.appendChild(this.root);
    this.scrolls.restore();
    this.focus.restore(100);
    this.noteAttached();
    return this;
  }

  /** Send an edit only if edits can work now (controls.ts says why not in the tooltips). */
  private edit(a: Action): void {
    if (!this.controls.edit.disabled) this.send(a);
  }

  private send(a: Action): void {
    if (this.link.state !== "live") {
      // no kernel behind this view: versions are shown from their stored frames (frames.ts)
      if (a.action === "checkout") showFrame(this.model, a.version);
      return;
    }
    try {
      this.model.send(a);
    } catch {
      // No kernel (e.g. exported HTML): actions have nowhere to go.
    }
  }

  private invalidate(k: Key): void {
    this.dirty.add(k);
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => this.flush());
  }

  /** Apply every pending trait change, cheapest path first. */
  flush(): void {
    this.scheduled = false;
    if (this.retired()) return;
    const d = this.dirty;
    if (!d.size) return;
    this.dirty = new Set();
    this.entry?.finish(); // the diagram redraws and lays out with all its elements
    const m = this.model;
    const rebuilt = d.has("structure") || d.has("show_pruned");
    const scores = m.get("scores");
    const edgeScores = decode(scores?.edge)?.data;
    const nodeScores = decode(scores?.node)?.data;
    if (rebuilt) {
      const s = m.get("structure") ?? ({} as Model["structure"]);
      this.diagram.build(s, !!m.get("show_pruned"), [edgeScores, m.get("beta") ?? 3, nodeScores]);
      this.toolbar.setShowPruned(!!m.get("show_pruned"));
    }
    if (rebuilt || d.has("scores") || d.has("beta")) this.diagram.setScores(edgeScores, m.get("beta") ?? 3, nodeScores);
    if (rebuilt || d.has("curves") || d.has("samples")) {
      // A training frame's new curves are drawn in a task of their own, after the scores
      // (faint set, opacity) and ipywidgets' decoding of the message: two short tasks.
      if (!rebuilt && m.get("training")?.state === "running" && typeof setTimeout === "function") this.deferData();
      else this.setData();
    }
    // The kernel's selection wins when it changes; a local click without a kernel stays.
    if (d.has("selected")) this.selected = keyOf(m.get("selected")) ?? null;
    if (d.has("training") || d.has("error")) this.setFitPending(false); // the kernel answered
    if (d.has("fit_args")) this.toolbar.setFitArgs(m.get("fit_args"));
    if (rebuilt || ["training", "samples", "fit_args", "error"].some((k) => d.has(k as Key))) this.applyControls(false);
    if (rebuilt || ["curves", "samples", "scores", "selected", "candidates", "history", "training"].some((k) => d.has(k as Key))) {
      this.diagram.setSelected(this.selected);
      this.refreshInspector();
    }
    const loss = m.get("loss");
    if (d.has("loss")) this.toolbar.sparkline.update(decode(loss?.train)?.data, decode(loss?.test)?.data);
    if (d.has("training")) this.toolbar.setTraining(m.get("training"));
    if (d.has("loss") || d.has("history") || d.has("training")) {
      const label = lossLabel(m.get("history"), m.get("training"), decode(loss?.train)?.data, decode(loss?.test)?.data);
      this.toolbar.sparkline.setLabel(label.text, label.title);
    }
    if (d.has("history")) this.timeline.update(m.get("history"));
    if (d.has("pareto") || d.has("history")) this.pareto.update(m.get("pareto"), m.get("history")?.current ?? "");
    if (d.has("error")) this.banner.update(m.get("error"));
    if (this.link.state === "static" || this.link.state === "offline") markReadOnly(this.root); // panels re-enable their buttons on update
    if (this.root.isConnected) this.focus.restore(0); // a redrawn row or edge had focus
  }

  private setData(): void {
    if (this.dataTimer) clearTimeout(this.dataTimer);
    this.dataTimer = null;
    this.diagram.setData(edgeData(this.model));
  }

  /** setData in the next task (once, however many frames came before it runs). */
  private deferData(): void {
    if (this.dataTimer) return;
    this.dataTimer = setTimeout(() => {
      this.dataTimer = null;
      if (!this.disposed) this.setData();
    }, 0);
  }

  private computeControls(): Record<ControlName, Control> {
    const m = this.model;
    const edges = m.get("structure")?.edges ?? [];
    return controls({
      link: this.link?.state ?? "live",
      training: m.get("training")?.state ?? "idle",
      hasData: !!decode(m.get("samples")?.x),
      activeEdges: edges.filter((e) => e.active).length,
      fitPending: this.fitPending != null,
      fitError: this.toolbar.form.validate().error,
    });
  }

  /** Recompute which controls work and show it everywhere (also the link note). */
  private applyControls(refresh = true): void {
    this.controls = this.computeControls();
    const c = this.controls;
    this.toolbar.apply(c, LINK_NOTES[this.link?.state ?? "live"]);
    this.timeline.setControls(c.branch, c.versions);
    this.root.dataset.link = this.link?.state ?? "live";
    if (this.link?.state === "static" || this.link?.state === "offline") markReadOnly(this.root);
    if (refresh) this.refreshInspector();
  }

  /** Fit stays disabled from the click until the kernel answers (or 10 s pass). */
  private setFitPending(on: boolean): void {
    if (this.fitPending) clearTimeout(this.fitPending);
    this.fitPending = on ? setTimeout(() => this.setFitPending(false), 10000) : null;
    this.applyControls(false);
  }

  private refreshInspector(): void {
    const edges = this.model.get("structure")?.edges ?? [];
    const index = this.selected ? edges.findIndex((e) => `${e.l},${e.i},${e.j}` === this.selected) : -1;
    if (index < 0 || !edges[index].active) {
      // gone or pruned (e.g. after Delete): nothing left to inspect or apply
      if (this.selected && index >= 0) this.closeInspector();
      this.inspector.hide();
      return;
    }
    const forThis = keyOf(this.model.get("selected")) === this.selected;
    const score = decode(this.model.get("scores")?.edge)?.data[index];
    const edge = edges[index];
    this.inspector.show({
      edge,
      input: edge.l === 0 ? (this.model.get("structure")?.in_vars?.[edge.i] ?? null) : null,
      index,
      data: edgeData(this.model),
      score: score ?? null,
      candidates: forThis ? (this.model.get("candidates") ?? []) : null,
      version: this.model.get("history")?.current ?? "",
      training: this.model.get("training"),
      hasData: !!decode(this.model.get("samples")?.x),
      edit: this.controls.edit,
    });
  }

  private select(edge: number[]): void {
    const key = edge.join(",");
    const e = (this.model.get("structure")?.edges ?? []).find((x) => `${x.l},${x.i},${x.j}` === key);
    if (!e || !e.active) return; // a ghosted (pruned) edge has nothing to inspect
    this.selected = key;
    const focusInDiagram = this.diagram.el.contains(document.activeElement);
    if (!focusInDiagram) this.root.focus({ preventScroll: true });
    this.edit({ action: "select_edge", edge });
    this.diagram.setSelected(this.selected);
    this.refreshInspector();
  }

  private closeInspector(): void {
    if (this.selected === null) return;
    this.selected = null;
    this.diagram.setSelected(null);
    this.inspector.hide();
    this.save("selected", []);
  }

  private setShowPruned(v: boolean): void {
    this.save("show_pruned", v);
  }

  private save<K extends Key>(k: K, v: Model[K]): void {
    this.model.set(k, v);
    try {
      this.model.save_changes();
    } catch {
      // No kernel: the change stays local.
    }
  }

  private onKey = (e: KeyboardEvent): void => {
    const t = e.target as HTMLElement | null;
    if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT")) {
      // Typing in our fields must not trigger JupyterLab's notebook shortcuts (Shift/Ctrl+Enter
      // still run the cell).
      if (!(e.key === "Enter" && (e.shiftKey || e.ctrlKey || e.metaKey))) e.stopPropagation();
      return;
    }
    if ((e.key === "Delete" || e.key === "Backspace") && this.selected) {
      // preventDefault also keeps JupyterLab's command-mode shortcuts from acting on it.
      e.preventDefault();
      e.stopPropagation();
      this.edit({ action: "prune_edge", edge: this.selected.split(",").map(Number) });
    } else if (e.key === "Escape" && this.selected) {
      e.stopPropagation();
      this.closeInspector();
    }
  };

  /** JupyterLab re-renders an output when the kernel refreshes its stored SVG: it empties
   * the output node (our host loses its parent) and asks for a new view without disposing
   * this one. Detached, this view skips updates (they stay pending) and waits GRACE_MS for
   * render() to move it into the new output (reattach.ts); unclaimed, it disposes itself. */
  private retired(): boolean {
    if (this.disposed) return true;
    if (this.host.parentNode) {
      this.attached = true;
      return false;
    }
    if (!this.attached) return false; // not placed in the page yet
    if (!this.graceTimer) {
      this.graceTimer = setTimeout(() => {
        this.graceTimer = null;
        if (this.detached()) this.dispose();
      }, GRACE_MS);
    }
    return true;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    untrack(this);
    this.entry?.finish();
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.scrolls.dispose();
    for (const [ev, h] of this.handlers) this.model.off(ev, h);
    this.link.dispose();
    this.keys.dispose();
    if (this.fitPending) clearTimeout(this.fitPending);
    if (this.dataTimer) clearTimeout(this.dataTimer);
    this.root.removeEventListener("keydown", this.onKey);
    this.focus.dispose();
    this.diagram.dispose();
    this.root.remove();
  }
}

/** anywidget render: draw into `el`; the returned function tears everything down. */
function render({ model, el }: { model: WidgetModel; el: HTMLElement }): () => void {
  const view = claim<View>(model)?.reattach(model, el) ?? new View(model, el);
  // the cleanup of an output this view has since moved out of must not dispose it
  return () => view.host === el && view.dispose();
}

export default { render };
