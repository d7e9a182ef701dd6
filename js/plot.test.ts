import { describe, expect, it } from "vitest";
import { dec1 } from "./plot";

describe("dec1", () => {
  it("writes a number rounded to one decimal exactly as String(Math.round(v * 10) / 10)", () => {
    let seed = 3;
    const rand = (): number => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const values = [0, -0, 0.04, -0.04, 0.05, -0.05, 0.15, -0.15, 1, -1, 9.95, -9.95, 12.3, 120, -120, 1e8, -1e8, 1e9, 5e8 + 0.26, 1e12, -3.3e15];
    for (let k = 0; k < 20000; k++) values.push((rand() - 0.5) * 10 ** (rand() * 10 - 3));
    for (let k = -300; k <= 300; k++) values.push(k / 20, k / 10 + 0.05, k * 1.37);
    values.push(NaN, Infinity, -Infinity);
    for (const v of values) expect(dec1(v), String(v)).toBe(String(Math.round(v * 10) / 10));
  });
});
