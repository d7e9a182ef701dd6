// Toolbar: Fit (with a steps input) / Pause / Resume / Stop, Prune, the "show pruned"
// toggle, training progress and the loss sparkline. Buttons carry `data-action`.
import type { Action, Training } from "../model";
import { html } from "../plot";
import { Sparkline } from "./sparkline";

export interface ToolbarEvents {
  send(action: Action): void;
  setShowPruned(value: boolean): void;
}

export class Toolbar {
  readonly el: HTMLElement;
  readonly sparkline = new Sparkline();
  private steps: HTMLInputElement;
  private buttons: Record<string, HTMLButtonElement> = {};
  private showPruned: HTMLInputElement;
  private bar: HTMLElement;
  private status: HTMLElement;

  constructor(private events: ToolbarEvents) {
    this.el = html("div", "kw-toolbar");
    const fit = html("span", "kw-group", "", this.el);
    this.steps = html("input", "kw-steps", "", fit);
    Object.assign(this.steps, { type: "number", min: "1", step: "1", value: "50", title: "optimiser steps" });
    this.steps.setAttribute("aria-label", "steps");
    const startFit = (): void => {
      const n = Math.round(Number(this.steps.value));
      this.events.send({ action: "fit", steps: Number.isFinite(n) && n > 0 ? n : 50 });
    };
    this.button(fit, "fit", "Fit", "train for the given number of steps", startFit);
    this.steps.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !this.buttons.fit.disabled) startFit();
    });
    this.button(fit, "pause", "Pause", "pause training", () => this.events.send({ action: "pause" }));
    this.button(fit, "resume", "Resume", "resume training", () => this.events.send({ action: "resume" }));
    this.button(fit, "stop", "Stop", "stop training", () => this.events.send({ action: "stop" }));
    const edit = html("span", "kw-group", "", this.el);
    this.button(edit, "prune", "Prune", "prune edges and nodes with low attribution", () =>
      this.events.send({ action: "prune" }),
    );
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

  private button(parent: HTMLElement, action: string, text: string, title: string, onClick: () => void): void {
    const b = html("button", "kw-button", text, parent);
    b.type = "button";
    b.title = title;
    b.dataset.action = action;
    b.addEventListener("click", onClick);
    this.buttons[action] = b;
  }

  setShowPruned(value: boolean): void {
    this.showPruned.checked = !!value;
  }

  /** Enable the buttons that make sense in this state and show step / steps. */
  setTraining(t: Training | undefined): void {
    const state = t?.state ?? "idle";
    const step = t?.step ?? 0;
    const steps = t?.steps ?? 0;
    const busy = state !== "idle";
    this.buttons.fit.disabled = busy;
    this.buttons.prune.disabled = busy;
    this.buttons.pause.disabled = state !== "running";
    this.buttons.resume.disabled = state !== "paused";
    this.buttons.stop.disabled = !busy;
    const frac = steps > 0 ? Math.min(1, step / steps) : 0;
    this.bar.style.width = `${(100 * (busy ? frac : 0)).toFixed(1)}%`;
    this.status.textContent = busy ? `${state} ${step}/${steps}` : steps > 0 ? `idle (${step}/${steps})` : "idle";
    this.el.dataset.state = state;
  }
}
