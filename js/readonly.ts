// Read-only copies: a view with no kernel behind it (exported HTML; a notebook reopened
// from its saved widget state, whose models have no live comm) cannot fit, prune or edit.
// `isReadOnly` is the one place that decides it; `markReadOnly` says so in the widget and
// disables what cannot work, while version browsing goes on from stored frames (frames.ts).
import type { WidgetModel } from "./model";
import { html } from "./plot";

interface Backbone {
  get(key: string): unknown;
  comm_live?: boolean;
}

interface Manager {
  kernel?: unknown;
  _models?: Record<string, Promise<Backbone>>;
}

/** True if no kernel answers this view's model (anywidget's proxy hides the comm itself). */
export async function isReadOnly(model: WidgetModel): Promise<boolean> {
  const manager = (model as unknown as { widget_manager?: Manager }).widget_manager;
  if (!manager) return false; // not under a widget manager (unit tests): assume live
  // Find the Backbone model behind anywidget's proxy: it holds the very same trait objects.
  const mine = model.get("structure");
  for (const p of Object.values(manager._models ?? {})) {
    const m = await p.catch(() => null);
    if (m && mine !== undefined && m.get("structure") === mine && typeof m.comm_live === "boolean") {
      return !m.comm_live;
    }
  }
  return !("kernel" in manager); // the HTML manager of an exported page has no kernel
}

export const READ_ONLY_NOTE =
  "read-only copy: click a version to see it; Fit, Prune and edits need the running notebook";

/** Say "read-only copy" in `root` and disable every action button that needs a kernel. */
export function markReadOnly(root: HTMLElement): void {
  root.classList.add("kw-readonly");
  root.dataset.readonly = "true";
  if (!root.querySelector(".kw-readonly-note")) {
    const note = html("div", "kw-readonly-note", READ_ONLY_NOTE);
    note.setAttribute("role", "status");
    root.prepend(note);
  }
  for (const b of root.querySelectorAll<HTMLButtonElement | HTMLInputElement>(
    "button[data-action], .kw-steps, .kw-fix input, .kw-fix button",
  )) {
    b.disabled = true;
    b.title = "read-only copy: needs the running notebook";
  }
}
