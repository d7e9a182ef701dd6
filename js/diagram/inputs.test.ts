import { describe, expect, it } from "vitest";
import { collapseInputs, importance, LABEL_CHARS, labelText, MAX_INPUTS } from "./inputs";

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe("collapseInputs", () => {
  it("draws every input up to MAX_INPUTS", () => {
    const ids = range(MAX_INPUTS);
    expect(collapseInputs(ids, new Set([0]), false)).toEqual({ shown: ids, collapsed: [] });
  });

  it("collapses the inputs without a drawn edge beyond MAX_INPUTS", () => {
    const ids = range(30);
    const { shown, collapsed } = collapseInputs(ids, new Set([2, 5, 29]), false);
    expect(shown).toEqual([2, 5, 29]);
    expect(collapsed).toEqual(ids.filter((i) => ![2, 5, 29].includes(i)));
  });

  it("keeps everything when asked to expand, or when a single input would collapse", () => {
    const ids = range(30);
    expect(collapseInputs(ids, new Set([1]), true).collapsed).toEqual([]);
    expect(collapseInputs(ids, new Set(range(29)), false).collapsed).toEqual([]);
  });
});

describe("labels and importance", () => {
  it("cuts long names with an ellipsis", () => {
    expect(labelText("short")).toBe("short");
    const long = "reynolds_number_of_the_inlet_flow";
    expect(labelText(long)).toHaveLength(LABEL_CHARS);
    expect(labelText(long).endsWith("…")).toBe(true);
  });

  it("scales input scores to the most important input", () => {
    expect(importance(new Float32Array([0.5, 2, 1, 9]), 3)).toEqual([0.25, 1, 0.5]);
    expect(importance(new Float32Array([0, 0]), 2)).toBeNull();
    expect(importance(undefined, 2)).toBeNull();
  });
});
