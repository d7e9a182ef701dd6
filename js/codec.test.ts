import { describe, expect, it } from "vitest";
import { decode, encode } from "./codec";

describe("codec", () => {
  it("round-trips float32 values and shape", () => {
    const values = [0, 1.5, -2.25, 2 ** -30, 1e6, -0.125]; // exact in float32
    const d = decode(encode(values, [2, 3]))!;
    expect(Array.from(d.data)).toEqual(values);
    expect(d.shape).toEqual([2, 3]);
  });

  it("decodes a DataView at an unaligned offset by copying", () => {
    const bytes = new Uint8Array(4 * 3 + 1);
    new DataView(bytes.buffer).setFloat32(1, 7.5, true);
    new DataView(bytes.buffer).setFloat32(5, -1, true);
    const d = decode({ view: new DataView(bytes.buffer, 1, 12), dtype: "float32", shape: [3] })!;
    expect(Array.from(d.data)).toEqual([7.5, -1, 0]);
  });

  it("decodes float64 buffers and plain lists to float32", () => {
    const f64 = new Float64Array([0.5, 2, -4]);
    expect(Array.from(decode({ view: new DataView(f64.buffer), dtype: "float64", shape: [3] })!.data)).toEqual([0.5, 2, -4]);
    expect(Array.from(decode({ view: [1, 2], dtype: "float32", shape: [2] })!.data)).toEqual([1, 2]);
  });

  it("returns null for a missing array", () => {
    expect(decode(undefined)).toBeNull();
    expect(decode({} as never)).toBeNull();
  });
});
