// Inspector of the selected edge: large plot, score and range, symbolic candidates, and a
// text box to fix the edge to any library function by name. Candidates are shown only
// when they were computed for this edge and this version (candidateView); otherwise the
// list says what it waits for, and nothing can be applied to the wrong edge.
import { decode } from "../codec";
import { edgeRuns, type EdgeData } from "../diagram/edges";
import type { Action, Candidate, Edge, Training } from "../model";
import { html, num, run, type Run } from "../plot";
import { BigPlot } from "./bigplot";
import { renderCandidates } from "./candidates";
import type { Control } from "./controls";
import { formulaText } from "./formula";

export interface InspectorState {
  edge: Edge; // the selected edge
  input?: string | null; // the name of its input variable (layer 0: structure.in_vars[i])
  index: number; // its row in curves / samples / scores
  data: EdgeData;
  score: number | null;
  candidates: Candidate[] | null; // null while the kernel's selection is another edge
  version: string; // the version drawn (history.current)
  training: Training | undefined;
  hasData: boolean;
  edit: Control; // may edits be sent (controls.ts)
}

export type CandidateView =
  | { kind: "list"; list: Candidate[]; note: string | null }
  | { kind: "loading" | "constant" | "nodata" | "readonly" | "pruned"; note: string };

const key = (e: { l: number; i: number; j: number }): string => `${e.l},${e.i},${e.j}`;

/** True if the sampled curve is flat (max - min <= 1e-6 * max(1, |y|max)), as in Python's inspect.py. */
export function isConstant(cy: Run | null): boolean {
  if (!cy || !cy.n) return false;
  let lo = Infinity;
  let hi = -Infinity;
  for (let k = cy.start; k < cy.start + cy.n; k++) {
    const v = cy.data[k];
    if (!Number.isFinite(v)) continue;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return lo <= hi && hi - lo <= 1e-6 * Math.max(1, Math.abs(lo), Math.abs(hi));
}

/** What the candidate area shows for this state. */
export function candidateView(s: InspectorState, cy: Run | null, sy: Run | null = null): CandidateView {
  if (!s.edge.active) return { kind: "pruned", note: "this edge is pruned: nothing to inspect" };
  // flat curve, or one output value on the data (its input node is dead): as inspect.py
  const flat = isConstant(cy) ? cy : isConstant(sy) ? sy : null;
  if (flat) {
    const c = num(flat.data[flat.start]);
    return { kind: "constant", note: `constant edge (≈ ${c}): no function to fit; Delete prunes it` };
  }
  if (!s.hasData) return { kind: "nodata", note: "candidates need a dataset: create the widget with KANWidget(model, dataset)" };
  if (s.edit.disabled) return { kind: "readonly", note: `candidates need the running notebook (${s.edit.title})` };
  const mine = (c: Candidate): boolean =>
    (!c.edge || key({ l: c.edge[0], i: c.edge[1], j: c.edge[2] }) === key(s.edge)) && (c.version == null || c.version === s.version);
  const list = (s.candidates ?? []).filter(mine);
  if (!list.length || list.length !== (s.candidates ?? []).length) return { kind: "loading", note: "computing candidates for this edge…" };
  const t = s.training;
  const step = list[0].step;
  if (t && t.state !== "idle" && step != null && step < t.step) {
    return { kind: "list", list, note: `computed at step ${step} of this run; updated when training ends` };
  }
  if ((!t || t.state === "idle") && step != null) return { kind: "loading", note: "updating candidates for the trained curve…" };
  return { kind: "list", list, note: null };
}

export interface InspectorEvents {
  send(action: Action): void;
  close(): void;
}

export class Inspector {
  readonly el: HTMLElement;
  private title: HTMLElement;
  private plot = new BigPlot();
  private facts: HTMLElement;
  private list: HTMLElement;
  private input: HTMLInputElement;
  private fix: HTMLButtonElement;
  private state: InspectorState | null = null;
  private shownKey: string | null = null;
  private view: CandidateView | null = null;
  private hovered: Candidate | null = null;

  constructor(private events: InspectorEvents) {
    this.el = html("div", "kw-inspector kw-panel");
    this.el.hidden = true;
    const head = html("div", "kw-panel-head", "", this.el);
    this.title = html("span", "kw-panel-title", "", head);
    const close = html("button", "kw-close", "×", head);
    close.type = "button";
    close.title = "close the inspector (Escape)";
    close.addEventListener("click", () => this.events.close());
    this.el.appendChild(this.plot.el);
    this.facts = html("div", "kw-facts", "", this.el);
    this.list = html("div", "kw-candidate-list", "", this.el);
    this.list.setAttribute("aria-live", "polite");
    const form = html("form", "kw-fix", "", this.el);
    this.input = html("input", "kw-fn-input", "", form);
    Object.assign(this.input, { type: "text", placeholder: "function name, e.g. sin", spellcheck: false });
    this.input.setAttribute("aria-label", "symbolic function name");
    this.fix = html("button", "kw-button", "Fix", form);
    this.fix.type = "submit";
    this.fix.dataset.action = "symbolify";
    const submit = (): void => {
      const name = this.input.value.trim();
      if (name && !this.fix.disabled) this.choose(name);
    };
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      submit();
    });
    // Inside JupyterLab, Enter would reach the notebook's shortcuts (which cancel the
    // form's implicit submission): submit here and keep the key to ourselves.
    this.input.addEventListener("keydown", (e) => {
      if (e.key !== "Enter") return;
      e.preventDefault();
      e.stopPropagation();
      submit();
    });
  }

  get edgeKey(): string | null {
    return this.state ? key(this.state.edge) : null;
  }

  hide(): void {
    this.el.hidden = true;
    this.state = null;
    this.shownKey = null;
    this.view = null;
    this.hovered = null;
  }

  /** Show or refresh; the candidate table is rebuilt only when what it shows changes. */
  show(s: InspectorState): void {
    this.state = s;
    this.el.hidden = false;
    const { edge } = s;
    this.title.textContent = `edge (${key(edge)})`;
    const runs = edgeRuns(s.data, s.index);
    this.plot.draw(runs.cx, runs.cy, runs.sx, runs.sy);
    this.facts.replaceChildren();
    const fact = (label: string, value: string): void => {
      const row = html("div", "kw-fact", "", this.facts);
      html("span", "kw-fact-label", label, row);
      html("span", "kw-fact-value", value, row);
    };
    if (s.input) fact("input", s.input);
    fact("score", num(s.score));
    if (runs.cx) {
      let lo = Infinity;
      let hi = -Infinity;
      for (let k = runs.cx.start; k < runs.cx.start + runs.cx.n; k++) {
        lo = Math.min(lo, runs.cx.data[k]);
        hi = Math.max(hi, runs.cx.data[k]);
      }
      fact("range", `[${num(lo)}, ${num(hi)}]`);
    }
    fact("state", !edge.active ? "pruned" : edge.symbolic ? `symbolic: ${formulaText(edge.formula) || edge.symbolic}` : "spline");
    let view = candidateView(s, runs.cy, runs.sy);
    const listKey = `${key(edge)}|${view.kind}|${view.note}|${view.kind === "list" ? JSON.stringify(view.list.map((c) => [c.name, c.r2, c.version, c.step])) : ""}`;
    if (listKey !== this.shownKey || !this.view) {
      this.renderList(view);
      this.shownKey = listKey;
    } else {
      view = this.view; // same content: keep the table (and the list its rows were built from)
    }
    this.view = view;
    const blocked = view.kind !== "list" && view.kind !== "loading";
    this.input.disabled = this.fix.disabled = blocked;
    this.fix.title = blocked ? (view.note ?? "") : "fix this edge to the typed function (Enter)";
    this.applyHover();
  }

  private renderList(view: CandidateView): void {
    const focused = this.list.contains(document.activeElement) ? (document.activeElement as HTMLElement).dataset.candidate : undefined;
    this.hovered = null;
    this.list.replaceChildren();
    this.list.setAttribute("aria-busy", String(view.kind === "loading"));
    this.list.dataset.state = view.kind;
    // what the rows were computed for (tests and assistive tech can check it)
    const first = view.kind === "list" ? view.list[0] : undefined;
    this.list.dataset.forEdge = first?.edge ? first.edge.join(",") : (this.edgeKey ?? "");
    this.list.dataset.forVersion = first?.version ?? "";
    if (view.kind !== "list") {
      html("div", "kw-muted", view.note, this.list);
      return;
    }
    if (view.note) html("div", "kw-muted kw-stale", view.note, this.list);
    this.list.appendChild(
      renderCandidates(view.list, {
        hover: (c) => {
          this.hovered = c;
          this.applyHover();
        },
        choose: (name) => this.chooseCandidate(name, view.list),
      }),
    );
    if (focused) this.list.querySelector<HTMLElement>(`[data-candidate="${CSS.escape(focused)}"]`)?.focus();
  }

  private applyHover(): void {
    const c = this.hovered;
    const x = decode(c?.curve?.x);
    const y = decode(c?.curve?.y);
    this.plot.setOverlay(x ? run(x.data, 0, x.data.length) : null, y ? run(y.data, 0, y.data.length) : null);
  }

  /** A listed candidate goes to the edge it was computed for, and only if that is still this edge. */
  private chooseCandidate(name: string, list: Candidate[]): void {
    const c = list.find((x) => x.name === name);
    if (!this.state || !c || this.view?.kind !== "list" || this.view.list !== list) return;
    if (c.edge && key({ l: c.edge[0], i: c.edge[1], j: c.edge[2] }) !== key(this.state.edge)) return;
    this.choose(name);
  }

  private choose(name: string): void {
    if (!this.state || this.state.edit.disabled || !this.state.edge.active) return;
    const { l, i, j } = this.state.edge;
    this.events.send({ action: "symbolify", edge: [l, i, j], name });
  }
}
