// anywidget entry: wires the synced traits (model.ts) to the diagram, the panels and the
// timeline. Trait changes are coalesced in a microtask, so a batch sent with hold_sync()
// costs one update; only `structure` / `show_pruned` rebuild the diagram. UI-only state
// (the locally selected edge, a pending Fit) lives here; without a kernel, send() does
// nothing. Which controls work is decided in one place (panels/controls.ts) from the
// kernel link (panels/link.ts), the training state, the data and the model.
import { decode } from "./codec";
import { Diagram } from "./diagram/diagram";
import { showFrame } from "./frames";
import type { EdgeData } from "./diagram/edges";
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
import { Timeline } from "./timeline/timeline";

type Key = keyof Model;
// `frames` is read on demand (frames.ts), never drawn directly.
const KEYS = TRAIT_NAMES.filter((k) => k !== "frames");

// Keyboard focus survives a re-render of the output: JupyterLab replaces the view when the
// kernel refreshes the stored SVG (e.g. after a checkout made with Enter), so the focused
// item's data-* hook is kept (one page has one focus; anywidget gives each view its own model
// proxy, so the record is not per model) and focused again in the new view.
const FOCUS_HOOKS = ["data-version", "data-edge", "data-node", "data-candidate"];
let lastFocus: string | null = null;

function focusKey(el: Element | null): string | null {
  const hooked = el?.closest(FOCUS_HOOKS.map((h) => `[${h}]`).join(", "));
  for (const h of FOCUS_HOOKS) {
    const v = hooked?.getAttribute(h);
    if (v != null) return `[${h}="${v.replace(/["\\]/g, "\\$&")}"]`;
  }
  return null;
}

/** Decode curves and samples into the (E, P) / (E, S) rows the diagram draws. */
export function edgeData(model: WidgetModel): EdgeData {
  const nEdges = model.get("structure")?.edges?.length ?? 0;
  const c = model.get("curves") ?? {};
  const s = model.get("samples") ?? {};
  const cx = decode(c.x);
  const cy = decode(c.y);
  const sx = decode(s.x);
  const sy = decode(s.y);
  const cols = (d: typeof cx): number =>
    !d ? 0 : d.shape.length > 1 ? d.shape[d.shape.length - 1] : nEdges ? Math.floor(d.data.length / nEdges) : 0;
  return { cx: cx?.data, cy: cy?.data, p: cols(cx), sx: sx?.data, sy: sy?.data, s: cols(sx) };
}

const keyOf = (e: number[] | undefined): string | null => (e && e.length === 3 ? e.join(",") : null);

class View {
  private root: HTMLElement;
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

  constructor(private model: WidgetModel, private host: HTMLElement, linkOptions: LinkOptions = {}) {
    const send = (a: Action): void => this.send(a);
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
    for (const k of KEYS) {
      const h = (): void => this.invalidate(k);
      model.on(`change:${k}`, h);
      this.handlers.push([`change:${k}`, h]);
    }
    this.flush();
    this.root.addEventListener("focusin", this.onFocusIn);
    this.root.addEventListener("focusout", this.onFocusOut);
    const again = lastFocus;
    if (again) this.refocus(again, 100);
  }

  private onFocusIn = (e: FocusEvent): void => {
    const key = focusKey(e.target as Element | null);
    if (key) lastFocus = key;
    else (lastFocus = null);
  };

  /** Focus moved to another element of the page, or to none while the element stays in
   * the page: nothing to bring back. (An element removed by a redraw keeps the record.) */
  private onFocusOut = (e: FocusEvent): void => {
    const from = e.target as Node;
    const to = e.relatedTarget as Node | null;
    if (to && !this.root.contains(to)) (lastFocus = null);
    else if (!to) setTimeout(() => from.isConnected && (lastFocus = null), 0);
  };

  /** Once this view is in the page, focus `selector` if nothing else has focus. */
  private refocus(selector: string, tries: number): void {
    setTimeout(() => {
      if (this.disposed) return;
      if (!this.root.isConnected) {
        if (tries > 0) this.refocus(selector, tries - 1);
        return;
      }
      const active = document.activeElement;
      if (active && active !== document.body) return;
      this.root.querySelector<HTMLElement>(selector)?.focus();
    }, 50);
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
    const m = this.model;
    const rebuilt = d.has("structure") || d.has("show_pruned");
    const scores = m.get("scores");
    const edgeScores = decode(scores?.edge)?.data;
    const nodeScores = decode(scores?.node)?.data;
    if (rebuilt) {
      const s = m.get("structure") ?? ({} as Model["structure"]);
      this.diagram.build(s, !!m.get("show_pruned"), [edgeScores, m.get("beta") ?? 3, nodeScores]);
      this.toolbar.setShowPruned(!!m.get("show_pruned"));
      this.keys.refresh(this.selected);
    }
    if (rebuilt || d.has("scores") || d.has("beta")) this.diagram.setScores(edgeScores, m.get("beta") ?? 3, nodeScores);
    if (rebuilt || d.has("curves") || d.has("samples")) this.diagram.setData(edgeData(m));
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
    const again = lastFocus;
    if (again && this.root.isConnected) this.refocus(again, 0); // a redrawn row or edge had focus
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
   * the output node (our host loses its parent) and makes a new view without disposing this
   * one. Such a view stops listening at its next update. */
  private retired(): boolean {
    if (this.host.parentNode) this.attached = true;
    else if (this.attached) this.dispose();
    return this.disposed;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const [ev, h] of this.handlers) this.model.off(ev, h);
    this.link.dispose();
    this.keys.dispose();
    if (this.fitPending) clearTimeout(this.fitPending);
    this.root.removeEventListener("keydown", this.onKey);
    this.root.removeEventListener("focusin", this.onFocusIn);
    this.root.removeEventListener("focusout", this.onFocusOut);
    this.diagram.dispose();
    this.root.remove();
  }
}

/** anywidget render: draw into `el`; the returned function tears everything down. */
function render({ model, el }: { model: WidgetModel; el: HTMLElement }): () => void {
  const view = new View(model, el);
  return () => view.dispose();
}

export default { render };
