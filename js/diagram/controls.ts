// The diagram's own controls, top left: zoom out / in / fit, "hide faint edges (N)" (shown
// when there are faint edges, ticked by default on large models) and "collapse inputs"
// (shown after a collapsed group of inputs was expanded).
import { html } from "../plot";

export interface ControlEvents {
  zoom(factor: number | "fit"): void;
  hideFaint(hide: boolean): void;
  collapseInputs(): void;
}

export class DiagramControls {
  readonly el: HTMLElement;
  private faintBox: HTMLInputElement;
  private faintLabel: HTMLElement;
  private faintText: HTMLElement;
  private collapse: HTMLButtonElement;

  constructor(events: ControlEvents) {
    this.el = html("div", "kw-diagram-bar");
    const button = (cls: string, label: string, title: string, f: () => void): HTMLButtonElement => {
      const b = html("button", `kw-button ${cls}`, label, this.el);
      Object.assign(b, { type: "button", title });
      b.addEventListener("click", f);
      return b;
    };
    button("kw-zoom", "−", "zoom out (or Ctrl + wheel)", () => events.zoom(1 / 1.25));
    button("kw-zoom", "+", "zoom in (or Ctrl + wheel)", () => events.zoom(1.25));
    button("kw-zoom", "fit", "show the whole diagram", () => events.zoom("fit"));
    this.faintLabel = html("label", "kw-toggle kw-faint-toggle", "", this.el);
    this.faintBox = html("input", "kw-hide-faint", "", this.faintLabel);
    this.faintBox.type = "checkbox";
    this.faintText = html("span", "", "", this.faintLabel);
    this.faintLabel.title = "hide edges drawn at under 10% opacity (tanh(beta * score) < 0.1)";
    this.faintBox.addEventListener("change", () => events.hideFaint(this.faintBox.checked));
    this.collapse = button("kw-collapse-inputs", "collapse inputs", "collapse the inputs that have no drawn edge", () =>
      events.collapseInputs(),
    );
  }

  /** Show the state: `faint` edges, hidden or not; whether "collapse inputs" applies. */
  update(faint: number, hiding: boolean, chosen: boolean, canCollapse: boolean): void {
    this.faintBox.checked = hiding;
    this.faintText.textContent = ` hide faint edges (${faint})`;
    this.faintLabel.hidden = faint === 0 && !chosen;
    this.collapse.hidden = !canCollapse;
  }
}
