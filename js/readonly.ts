// Read-only copies: a view with no kernel behind it (exported HTML; a notebook reopened
// from its saved widget state, whose models have no live comm) cannot fit, prune or edit.
// The kernel link (panels/link.ts) is the one place that decides it; `markReadOnly` says so
// in the widget and disables what cannot work, while version browsing goes on from stored
// frames (frames.ts).
import { html } from "./plot";

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
