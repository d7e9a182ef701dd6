// @vitest-environment jsdom
import { describe, expect, it } from "vitest";
import { formatR2 } from "./candidates";
import { formulaText, renderFormula } from "./formula";

describe("formula", () => {
  it("renders powers as superscripts and products with a dot", () => {
    const el = renderFormula(document.createElement("span"), "exp(sin(3.1416*x1) + 1.0*x2**2) + x3**(-0.5)");
    expect(el.textContent).toBe("exp(sin(3.1416·x1) + 1.0·x22) + x3-0.5");
    expect(Array.from(el.querySelectorAll("sup")).map((s) => s.textContent)).toEqual(["2", "-0.5"]);
    expect(el.title).toContain("**");
  });

  it("never interprets text as HTML", () => {
    const el = renderFormula(document.createElement("span"), "<img src=x onerror=alert(1)>");
    expect(el.querySelector("img")).toBeNull();
  });

  it("writes plain text with ^ for tooltips", () => {
    expect(formulaText("1.0*x**2")).toBe("1.0·x^2");
    expect(formulaText(null)).toBe("");
  });

  it("formats R^2 with four decimals", () => {
    expect(formatR2(0.998712)).toBe("0.9987");
    expect(formatR2(-0.5)).toBe("-0.5000");
    expect(formatR2(null)).toBe("–");
  });
});
