// Loss numbers shown side by side (toolbar label, timeline, tooltips) use one format:
// three significant digits, trailing zeros kept ("0.0180" beside "0.0186", never "0.018").
import type { History, Training } from "../model";

/** RMSE with 3 significant digits; exponent below 1e-3 or from 1e4; "–" when missing. */
export function fmtLoss(v: number | null | undefined): string {
  if (v == null || !Number.isFinite(v)) return "–";
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e4)) return v.toExponential(2);
  return v === 0 ? "0" : v.toPrecision(3);
}

/** The toolbar's loss label: while training the latest step's loss, otherwise the current
 * version's recorded loss (so it always describes what the diagram shows); test RMSE when
 * known, else train RMSE, and it says which. */
export function lossLabel(
  history: History | undefined,
  training: Training | undefined,
  train: ArrayLike<number> | undefined,
  test: ArrayLike<number> | undefined,
): { text: string; title: string } {
  const last = (a: ArrayLike<number> | undefined): number | null => (a && a.length ? a[a.length - 1] : null);
  if (training && training.state !== "idle") {
    const te = last(test);
    const which = te != null && Number.isFinite(te) ? "test" : "train";
    const v = which === "test" ? te : last(train);
    return { text: `${which} RMSE ${fmtLoss(v)}`, title: `${which} RMSE at training step ${training.step}` };
  }
  const id = history?.current;
  const version = history?.versions?.find((v) => v.id === id);
  if (!version) return { text: "no loss yet", title: "no version recorded" };
  const which = version.test_loss != null ? "test" : "train";
  const v = which === "test" ? version.test_loss : version.train_loss;
  if (v == null) return { text: "no loss yet", title: `version ${id} has no recorded loss` };
  return { text: `${which} RMSE ${fmtLoss(v)}`, title: `${which} RMSE recorded for version ${id} (the one drawn)` };
}
