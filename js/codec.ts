// Binary arrays on the wire: `{view, dtype, shape}` (mirror of kanwidget/widget/codec.py).
// `view` is a DataView from the kernel or from saved widget state; plain lists are accepted too.
import type { EdgeData } from "./diagram/edges";
import type { Arr, WidgetModel } from "./model";

export interface Decoded {
  data: Float32Array;
  shape: number[];
}

const TYPED: Record<string, { new (b: ArrayBuffer, o: number, n: number): ArrayLike<number>; BYTES_PER_ELEMENT: number }> = {
  float32: Float32Array, float64: Float64Array, int32: Int32Array, uint32: Uint32Array,
  int16: Int16Array, uint16: Uint16Array, int8: Int8Array, uint8: Uint8Array,
};

/** Decode an `Arr` to float32 values and a shape; `null` if absent or malformed. */
export function decode(arr: Arr | null | undefined): Decoded | null {
  if (!arr || arr.view == null) return null;
  const v = arr.view;
  const T = TYPED[arr.dtype ?? "float32"] ?? Float32Array;
  let values: ArrayLike<number>;
  if (Array.isArray(v)) values = v;
  else {
    const buf = v instanceof ArrayBuffer ? v : v.buffer;
    const off = v instanceof ArrayBuffer ? 0 : v.byteOffset;
    const len = v instanceof ArrayBuffer ? v.byteLength : v.byteLength;
    const n = Math.floor(len / T.BYTES_PER_ELEMENT);
    // Typed arrays need an aligned offset; copy the bytes when the view is not aligned.
    values = off % T.BYTES_PER_ELEMENT === 0
      ? new T(buf as ArrayBuffer, off, n)
      : new T((buf as ArrayBuffer).slice(off, off + n * T.BYTES_PER_ELEMENT), 0, n);
  }
  const data = values instanceof Float32Array ? values : Float32Array.from(values);
  const shape = Array.isArray(arr.shape) && arr.shape.length ? arr.shape : [data.length];
  return { data, shape };
}

/** Encode values as an `Arr` with a DataView (what the kernel sends); used by tests. */
export function encode(values: ArrayLike<number>, shape?: number[]): Arr {
  const data = Float32Array.from(values);
  return { view: new DataView(data.buffer), dtype: "float32", shape: shape ?? [data.length] };
}

/** Decode curves and samples into the (E, P) / (E, S) rows the diagram draws. */
export function edgeData(model: WidgetModel): EdgeData {
  const nEdges = model.get("structure")?.edges?.length ?? 0;
  const c = model.get("curves") ?? {};
  const s = model.get("samples") ?? {};
  const cx = decode(c.x);
  const cy = decode(c.y);
  const sx = decode(s.x);
  const sy = decode(s.y);
  const cols = (d: typeof cx): number =>
    !d ? 0 : d.shape.length > 1 ? d.shape[d.shape.length - 1] : nEdges ? Math.floor(d.data.length / nEdges) : 0;
  return { cx: cx?.data, cy: cy?.data, p: cols(cx), sx: sx?.data, sy: sy?.data, s: cols(sx) };
}
