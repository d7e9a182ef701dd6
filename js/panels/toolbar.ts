// Toolbar: the Fit options and Fit / Pause / Resume / Stop, Prune, the "show pruned"
// toggle, training progress, the loss sparkline and the kernel-link note. Buttons carry
// `data-action`; whether each works right now is decided in controls.ts.
import type { Action, FitArgs, Training } from "../model";
import { html } from "../plot";
import type { Control, ControlName } from "./controls";
import { FitForm } from "./fitform";
import { Sparkline } from "./sparkline";

export interface ToolbarEvents {
  send(action: Action): void;
  setShowPruned(value: boolean): void;
  /** Fit was pressed (the view keeps Fit disabled until the kernel answers). */
  fitStarted(): void;
  /** The form's validity may have changed. */
  formChanged(): void;
}

export class Toolbar {
  readonly el: HTMLElement;
  readonly sparkline = new Sparkline();
  readonly form: FitForm;
  private buttons: Record<string, HTMLButtonElement> = {};
  private showPruned: HTMLInputElement;
  private bar: HTMLElement;
  private status: HTMLElement;
  readonly note: HTMLElement;
  private live = true;
  private training: Training | undefined = undefined;

  constructor(private events: ToolbarEvents) {
    this.el = html("div", "kw-toolbar");
    this.note = html("div", "kw-link-note", "", this.el);
    this.note.setAttribute("role", "status");
    this.note.hidden = true;
    this.form = new FitForm(
      () => this.events.formChanged(),
      () => this.startFit(),
    );
    this.el.appendChild(this.form.el);
    const run = html("span", "kw-group", "", this.el);
    this.button(run, "fit", "Fit", () => this.startFit());
    this.button(run, "pause", "Pause", () => this.events.send({ action: "pause" }));
    this.button(run, "resume", "Resume", () => this.events.send({ action: "resume" }));
    this.button(run, "stop", "Stop", () => this.events.send({ action: "stop" }));
    const edit = html("span", "kw-group", "", this.el);
    this.button(edit, "prune", "Prune", () => this.events.send({ action: "prune" }));
    const label = html("label", "kw-toggle", "", edit);
    this.showPruned = html("input", "kw-show-pruned-toggle", "", label);
    this.showPruned.type = "checkbox";
    label.append(" show pruned");
    this.showPruned.addEventListener("change", () => this.events.setShowPruned(this.showPruned.checked));
    const progress = html("span", "kw-group kw-progress-group", "", this.el);
    const track = html("span", "kw-progress", "", progress);
    this.bar = html("span", "kw-progress-bar", "", track);
    this.status = html("span", "kw-status", "", progress);
    progress.appendChild(this.sparkline.el);
    this.setTraining(undefined);
  }

  private startFit(): void {
    const b = this.buttons.fit;
    const parsed = this.form.validate();
    if (b.disabled || !parsed.args) return;
    b.disabled = true; // a second click before the kernel answers must not start a second run
    this.events.fitStarted();
    this.events.send({ action: "fit", ...parsed.args });
  }

  private button(parent: HTMLElement, action: string, text: string, onClick: () => void): void {
    const b = html("button", "kw-button", text, parent);
    b.type = "button";
    b.dataset.action = action;
    b.addEventListener("click", onClick);
    this.buttons[action] = b;
  }

  setShowPruned(value: boolean): void {
    this.showPruned.checked = !!value;
  }

  setFitArgs(args: FitArgs | undefined): void {
    this.form.set(args);
  }

  /** Apply controls(): disabled state and the tooltip saying why. */
  apply(c: Record<ControlName, Control>, note: string | null): void {
    for (const name of ["fit", "pause", "resume", "stop", "prune"] as const) {
      this.buttons[name].disabled = c[name].disabled;
      this.buttons[name].title = c[name].title;
    }
    this.form.setDisabled(c.edit.disabled, c.edit.title);
    this.showPruned.disabled = false; // a view setting: works without a kernel
    this.note.hidden = !note;
    this.note.textContent = note ?? "";
    if (this.live !== !note) {
      this.live = !note;
      this.setTraining(this.training);
    }
  }

  /** Progress and status text ("running 5/50", "paused 5/50", "idle"). */
  setTraining(t: Training | undefined): void {
    this.training = t;
    // without a kernel nothing runs, whatever the saved state says ("running 377/3000")
    const state = this.live ? (t?.state ?? "idle") : "idle";
    const step = t?.step ?? 0;
    const steps = t?.steps ?? 0;
    const busy = state !== "idle";
    const frac = steps > 0 ? Math.min(1, step / steps) : 0;
    this.bar.style.width = `${(100 * (busy ? frac : 0)).toFixed(1)}%`;
    // idle: the last run's step count would describe another version after a checkout
    this.status.textContent = !this.live ? "no kernel" : busy ? `${state} ${step}/${steps}` : "idle";
    this.el.dataset.state = state;
  }
}
