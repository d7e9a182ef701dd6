// Time travel without a kernel: the `frames` trait (kanwidget/widget/frames.py) holds each
// version's drawn data. When no kernel can check a version out (exported HTML, a saved
// notebook whose kernel is gone), a click on a version swaps its frame in for the drawn
// traits locally: model.set without save_changes, so nothing is sent anywhere, and the
// view's usual flush() redraws diagram, inspector, sparkline and timeline from it.
import { decode } from "./codec";
import type { Arr, Frame, WidgetModel } from "./model";

const f32 = (data: Float32Array, shape: number[]): Arr => ({ view: data, dtype: "float32", shape });

/** A frame's curves as the live `{x, y}` (E, P): x spread evenly over each edge's [lo, hi]. */
export function frameCurves(frame: Frame): { x?: Arr; y?: Arr } {
  const range = decode(frame.curves?.range);
  const y = decode(frame.curves?.y);
  if (!range || !y) return {};
  const e = range.data.length / 2;
  const p = y.shape.length > 1 ? y.shape[y.shape.length - 1] : e ? y.data.length / e : 0;
  const x = new Float32Array(e * p);
  for (let k = 0; k < e; k++) {
    const lo = range.data[2 * k];
    const hi = range.data[2 * k + 1];
    for (let t = 0; t < p; t++) x[k * p + t] = p > 1 ? lo + ((hi - lo) * t) / (p - 1) : lo;
  }
  return { x: f32(x, [e, p]), y: f32(y.data, [e, p]) };
}

/** Show version `id` from its stored frame; false if the state holds no frame for it. */
export function showFrame(model: WidgetModel, id: string): boolean {
  const frame = model.get("frames")?.[id];
  if (!frame) return false;
  const history = model.get("history");
  model.set("structure", frame.structure);
  model.set("curves", frameCurves(frame));
  model.set("samples", frame.samples ?? {});
  model.set("scores", frame.scores ?? {});
  model.set("loss", frame.loss ?? {});
  model.set("selected", []);
  model.set("candidates", []);
  model.set("history", { versions: history?.versions ?? [], current: id });
  return true;
}
