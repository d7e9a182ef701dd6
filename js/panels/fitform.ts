// The Fit options the toolbar shows (model.fit's names): steps, optimiser, learning rate,
// lamb (regularisation) and update_grid. Values start from the kernel's `fit_args` (the
// last fit's) and are checked here, in the user's words, before anything is sent.
import type { FitArgs } from "../model";
import { html } from "../plot";

export const MAX_STEPS = 100000;

export interface FitFields {
  steps: string;
  opt: string;
  lr: string;
  lamb: string;
  update_grid: boolean;
}

export type FitParse = { args: Omit<FitArgs, "other">; error: null; field: null } | { args: null; error: string; field: keyof FitFields };

/** Validate the form's text; a number must be written in full (no letters, no "1e"). */
export function parseFit(f: FitFields): FitParse {
  const fail = (field: keyof FitFields, error: string): FitParse => ({ args: null, error, field });
  const number = (s: string): number => (/^\s*[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?\s*$/i.test(s) ? Number(s) : NaN);
  const steps = number(f.steps);
  if (!Number.isInteger(steps) || steps < 1 || steps > MAX_STEPS) {
    return fail("steps", `steps must be a whole number from 1 to ${MAX_STEPS}`);
  }
  if (f.opt !== "LBFGS" && f.opt !== "Adam") return fail("opt", "choose LBFGS or Adam");
  const lr = number(f.lr);
  if (!(Number.isFinite(lr) && lr > 0)) return fail("lr", "learning rate must be a number above 0");
  const lamb = number(f.lamb);
  if (!(Number.isFinite(lamb) && lamb >= 0)) return fail("lamb", "lamb must be a number, 0 or above");
  return { args: { steps, opt: f.opt, lr, lamb, update_grid: f.update_grid }, error: null, field: null };
}

export class FitForm {
  readonly el: HTMLElement;
  readonly message: HTMLElement;
  private inputs: { steps: HTMLInputElement; opt: HTMLSelectElement; lr: HTMLInputElement; lamb: HTMLInputElement; update_grid: HTMLInputElement };
  private shown = "";

  constructor(private onChange: () => void, private onSubmit: () => void) {
    this.el = html("span", "kw-group kw-fit-form");
    const field = <T extends HTMLElement>(label: string, title: string, el: T): T => {
      const wrap = html("label", "kw-field", "", this.el);
      wrap.title = title;
      html("span", "kw-field-label", label, wrap);
      wrap.appendChild(el);
      return el;
    };
    const text = (cls: string, width: string): HTMLInputElement => {
      const i = html("input", cls);
      Object.assign(i, { type: "text", inputMode: "decimal", spellcheck: false });
      i.style.width = width;
      return i;
    };
    const opt = html("select", "kw-opt");
    for (const o of ["LBFGS", "Adam"]) html("option", "", o, opt).value = o;
    const grid = html("input", "kw-update-grid");
    grid.type = "checkbox";
    this.inputs = {
      steps: field("steps", "optimiser steps (1 to 100000)", text("kw-steps", "4.5em")),
      opt: field("opt", "optimiser", opt),
      lr: field("lr", "learning rate", text("kw-lr", "3.5em")),
      lamb: field("lamb", "regularisation strength (0: none)", text("kw-lamb", "4em")),
      update_grid: field("grid", "update_grid: adapt the spline grids to the data while training", grid),
    };
    this.message = html("span", "kw-form-error", "", this.el);
    this.message.setAttribute("role", "status");
    for (const el of Object.values(this.inputs)) {
      el.addEventListener("input", () => this.changed());
      el.addEventListener("change", () => this.changed());
      el.addEventListener("keydown", (e) => {
        if ((e as KeyboardEvent).key === "Enter") {
          e.preventDefault();
          this.onSubmit();
        }
      });
    }
    this.set(undefined);
  }

  private changed(): void {
    this.onChange();
  }

  fields(): FitFields {
    const i = this.inputs;
    return { steps: i.steps.value, opt: i.opt.value, lr: i.lr.value, lamb: i.lamb.value, update_grid: i.update_grid.checked };
  }

  /** Show the kernel's fit_args when they change (a new w.fit); user edits stay until then. */
  set(args: FitArgs | undefined): void {
    const a = { steps: 50, opt: "LBFGS", lr: 1, lamb: 0, update_grid: true, ...(args ?? {}) };
    const key = JSON.stringify(a);
    if (key === this.shown) return;
    this.shown = key;
    const i = this.inputs;
    i.steps.value = String(a.steps);
    i.opt.value = a.opt;
    i.lr.value = String(a.lr);
    i.lamb.value = String(a.lamb);
    i.update_grid.checked = !!a.update_grid;
    this.el.title = a.other ? `Fit also reuses ${a.other} (from your last w.fit)` : "";
    this.validate();
  }

  /** Mark the invalid field; returns the parse result. */
  validate(): FitParse {
    const r = parseFit(this.fields());
    for (const [k, el] of Object.entries(this.inputs)) el.setAttribute("aria-invalid", String(r.field === k));
    this.message.textContent = r.error ?? "";
    return r;
  }

  setDisabled(disabled: boolean, title: string): void {
    for (const el of Object.values(this.inputs)) {
      el.disabled = disabled;
      if (disabled) el.title = title;
      else el.removeAttribute("title");
    }
  }
}
