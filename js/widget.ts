// anywidget entry: wires the synced traits (model.ts) to the diagram, the panels and the
// timeline. Trait changes are coalesced in a microtask, so a batch sent with hold_sync()
// costs one update; only `structure` / `show_pruned` rebuild the diagram. UI-only state
// (the locally selected edge) lives here; without a kernel, send() does nothing.
import { decode } from "./codec";
import { Diagram } from "./diagram/diagram";
import type { EdgeData } from "./diagram/edges";
import { TRAIT_NAMES, type Action, type Model, type WidgetModel } from "./model";
import { Banner } from "./panels/banner";
import { Inspector } from "./panels/inspector";
import { Toolbar } from "./panels/toolbar";
import { html } from "./plot";
import { Timeline } from "./timeline/timeline";

type Key = keyof Model;
const KEYS = TRAIT_NAMES;

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
  private selected: string | null; // UI state: the edge highlighted / inspected here
  private dirty = new Set<Key>(KEYS);
  private scheduled = false;
  private handlers: [string, () => void][] = [];

  constructor(private model: WidgetModel, el: HTMLElement) {
    const send = (a: Action): void => this.send(a);
    this.root = html("div", "kanwidget");
    this.root.tabIndex = 0;
    this.toolbar = new Toolbar({ send, setShowPruned: (v) => this.setShowPruned(v) });
    this.diagram = new Diagram({
      select: (edge) => this.select(edge),
      pruneEdge: (edge) => send({ action: "prune_edge", edge }),
      pruneNode: (node) => send({ action: "prune_node", node }),
    });
    this.inspector = new Inspector({ send, close: () => this.closeInspector() });
    this.timeline = new Timeline(send);
    const main = html("div", "kw-main", "", this.root);
    main.appendChild(this.diagram.el);
    const side = html("div", "kw-side", "", main);
    side.append(this.inspector.el, this.timeline.el);
    this.root.prepend(this.banner.el, this.toolbar.el);
    this.root.addEventListener("keydown", this.onKey);
    el.appendChild(this.root);

    this.selected = keyOf(model.get("selected"));
    for (const k of KEYS) {
      const h = (): void => this.invalidate(k);
      model.on(`change:${k}`, h);
      this.handlers.push([`change:${k}`, h]);
    }
    this.flush();
  }

  private send(a: Action): void {
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
    }
    if (rebuilt || d.has("scores") || d.has("beta")) this.diagram.setScores(edgeScores, m.get("beta") ?? 3, nodeScores);
    if (rebuilt || d.has("curves") || d.has("samples")) this.diagram.setData(edgeData(m));
    // The kernel's selection wins when it changes; a local click without a kernel stays.
    if (d.has("selected")) this.selected = keyOf(m.get("selected")) ?? null;
    if (rebuilt || ["curves", "samples", "scores", "selected", "candidates"].some((k) => d.has(k as Key))) {
      this.diagram.setSelected(this.selected);
      this.refreshInspector();
    }
    if (d.has("loss")) this.toolbar.sparkline.update(decode(m.get("loss")?.train)?.data, decode(m.get("loss")?.test)?.data);
    if (d.has("training")) this.toolbar.setTraining(m.get("training"));
    if (d.has("history")) this.timeline.update(m.get("history"));
    if (d.has("error")) this.banner.update(m.get("error"));
  }

  private refreshInspector(): void {
    const edges = this.model.get("structure")?.edges ?? [];
    const index = this.selected ? edges.findIndex((e) => `${e.l},${e.i},${e.j}` === this.selected) : -1;
    if (index < 0) {
      this.inspector.hide();
      return;
    }
    const forThis = keyOf(this.model.get("selected")) === this.selected;
    const score = decode(this.model.get("scores")?.edge)?.data[index];
    this.inspector.show({
      edge: edges[index],
      index,
      data: edgeData(this.model),
      score: score ?? null,
      candidates: forThis ? (this.model.get("candidates") ?? []) : null,
    });
  }

  private select(edge: number[]): void {
    this.selected = edge.join(",");
    this.root.focus({ preventScroll: true });
    this.send({ action: "select_edge", edge });
    this.refreshInspector();
  }

  private closeInspector(): void {
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
    if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA")) return;
    if ((e.key === "Delete" || e.key === "Backspace") && this.selected) {
      // preventDefault also keeps JupyterLab's command-mode shortcuts from acting on it.
      e.preventDefault();
      e.stopPropagation();
      this.send({ action: "prune_edge", edge: this.selected.split(",").map(Number) });
    } else if (e.key === "Escape" && this.selected) {
      this.closeInspector();
    }
  };

  dispose(): void {
    for (const [ev, h] of this.handlers) this.model.off(ev, h);
    this.root.removeEventListener("keydown", this.onKey);
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
