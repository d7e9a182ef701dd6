// Which controls work right now, and why not: the one place that decides it from the
// kernel link, the training state, the data and the model. Toolbar, inspector and timeline
// only apply the answer (disabled + a tooltip saying why), so they cannot disagree.
import type { Training } from "../model";

/** live: a kernel answers; lost: it did, no more (restart); offline: a saved copy in Lab
 * with no live comm; static: an exported page (no kernel at all). */
export type LinkState = "live" | "lost" | "offline" | "static";

export interface ControlInput {
  link: LinkState;
  training: Training["state"];
  hasData: boolean; // the widget has a dataset (samples are drawn)
  activeEdges: number; // numeric or symbolic edges left
  fitPending: boolean; // Fit was pressed and the kernel has not answered yet
  fitError: string | null; // the Fit form's validation message, if any
}

export interface Control {
  disabled: boolean;
  title: string;
}

export type ControlName = "fit" | "pause" | "resume" | "stop" | "prune" | "edit" | "branch" | "versions";

export const LINK_NOTES: Record<LinkState, string | null> = {
  live: null,
  lost: "Disconnected from the kernel (restarted or shut down): re-run the cell to use the controls.",
  offline: "Not connected to a kernel: this is a saved copy. Re-run the cell to use the controls.",
  static: "Read-only copy: Fit, Prune and edits need the running notebook.",
};

const on = (title: string): Control => ({ disabled: false, title });
const off = (title: string): Control => ({ disabled: true, title });

export function controls(s: ControlInput): Record<ControlName, Control> {
  const why = s.link === "live" ? null : s.link === "static" ? "read-only copy" : "not connected to a kernel: re-run the cell";
  const busy = s.training !== "idle";
  const noData = "needs a dataset: create the widget with KANWidget(model, dataset)";
  const empty = "nothing to do: every edge is pruned (check out an older version)";
  const pick = (checks: [boolean, string][], ok: string): Control => {
    for (const [bad, msg] of checks) if (bad) return off(msg);
    return on(ok);
  };
  return {
    fit: pick(
      [
        [!!why, why ?? ""],
        [busy, "training: press Stop first"],
        [s.fitPending, "starting…"],
        [!s.hasData, noData],
        [s.activeEdges === 0, empty],
        [!!s.fitError, s.fitError ?? ""],
      ],
      "train with these options",
    ),
    pause: pick([[!!why, why ?? ""], [s.training !== "running", "nothing is training"]], "pause training"),
    resume: pick([[!!why, why ?? ""], [s.training !== "paused", "training is not paused"]], "resume training"),
    stop: pick([[!!why, why ?? ""], [!busy, "nothing is training"]], "stop training (the run so far is kept as a version)"),
    prune: pick(
      [
        [!!why, why ?? ""],
        [busy, "training: press Stop first"],
        [!s.hasData, noData],
        [s.activeEdges === 0, empty],
      ],
      "prune edges and nodes with low attribution",
    ),
    edit: pick([[!!why, why ?? ""]], ""),
    branch: pick([[!!why, why ?? ""]], "start a new round from the highlighted version"),
    versions: pick(
      [[s.link === "lost", why ?? ""]],
      busy ? "check out this version (stops training; the run so far is kept)" : "check out this version",
    ),
  };
}
