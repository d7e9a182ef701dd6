// Inspector of the selected edge: large plot, score and range, symbolic candidates, and a
// text box to fix the edge to any library function by name.
import { decode } from "../codec";
import { edgeRuns, type EdgeData } from "../diagram/edges";
import type { Action, Candidate, Edge } from "../model";
import { html, num, run } from "../plot";
import { BigPlot } from "./bigplot";
import { renderCandidates } from "./candidates";
import { formulaText } from "./formula";

export interface InspectorState {
  edge: Edge; // the selected edge
  index: number; // its row in curves / samples / scores
  data: EdgeData;
  score: number | null;
  candidates: Candidate[] | null; // null while the kernel has not answered for this edge
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
  private state: InspectorState | null = null;
  private shownCandidates: Candidate[] | null | undefined = undefined;
  private hovered: Candidate | null = null;

  constructor(private events: InspectorEvents) {
    this.el = html("div", "kw-inspector kw-panel");
    this.el.hidden = true;
    const head = html("div", "kw-panel-head", "", this.el);
    this.title = html("span", "kw-panel-title", "", head);
    const close = html("button", "kw-close", "×", head);
    close.type = "button";
    close.title = "close the inspector";
    close.addEventListener("click", () => this.events.close());
    this.el.appendChild(this.plot.el);
    this.facts = html("div", "kw-facts", "", this.el);
    this.list = html("div", "kw-candidate-list", "", this.el);
    const form = html("form", "kw-fix", "", this.el);
    this.input = html("input", "kw-fn-input", "", form);
    Object.assign(this.input, { type: "text", placeholder: "function name, e.g. sin", spellcheck: false });
    this.input.setAttribute("aria-label", "symbolic function name");
    const fix = html("button", "kw-button", "Fix", form);
    fix.type = "submit";
    fix.dataset.action = "symbolify";
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const name = this.input.value.trim();
      if (name) this.choose(name);
    });
  }

  hide(): void {
    this.el.hidden = true;
    this.state = null;
    this.shownCandidates = undefined;
    this.hovered = null;
  }

  /** Show or refresh; the candidate table is rebuilt only when its list or edge changes. */
  show(s: InspectorState): void {
    const sameEdge = this.state && this.state.index === s.index && this.key(this.state.edge) === this.key(s.edge);
    this.state = s;
    this.el.hidden = false;
    const { edge } = s;
    this.title.textContent = `edge (${this.key(edge)})`;
    const runs = edgeRuns(s.data, s.index);
    this.plot.draw(runs.cx, runs.cy, runs.sx, runs.sy);
    this.facts.replaceChildren();
    const fact = (label: string, value: string): void => {
      const row = html("div", "kw-fact", "", this.facts);
      html("span", "kw-fact-label", label, row);
      html("span", "kw-fact-value", value, row);
    };
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
    if (!sameEdge || s.candidates !== this.shownCandidates) this.renderList(s.candidates);
    this.applyHover();
  }

  private renderList(list: Candidate[] | null): void {
    this.shownCandidates = list;
    this.hovered = null;
    this.list.replaceChildren();
    if (list == null) {
      html("div", "kw-muted", "symbolic candidates appear here once the kernel answers", this.list);
      return;
    }
    if (!list.length) {
      html("div", "kw-muted", "no symbolic candidates", this.list);
      return;
    }
    this.list.appendChild(
      renderCandidates(list, {
        hover: (c) => {
          this.hovered = c;
          this.applyHover();
        },
        choose: (name) => this.choose(name),
      }),
    );
  }

  private applyHover(): void {
    const c = this.hovered;
    const x = decode(c?.curve?.x);
    const y = decode(c?.curve?.y);
    this.plot.setOverlay(x ? run(x.data, 0, x.data.length) : null, y ? run(y.data, 0, y.data.length) : null);
  }

  private choose(name: string): void {
    if (!this.state) return;
    const { l, i, j } = this.state.edge;
    this.events.send({ action: "symbolify", edge: [l, i, j], name });
  }

  private key(e: Edge): string {
    return `${e.l},${e.i},${e.j}`;
  }
}
