// Symbolic candidates of the selected edge, best first: name, formula, R^2, complexity.
// Hover (or keyboard focus) previews the fit on the big plot; click, Enter or Space fixes
// the edge to that function. Rows are reached with Tab; arrows move between them.
import type { Candidate } from "../model";
import { html } from "../plot";
import { renderFormula } from "./formula";

export interface CandidateEvents {
  hover(c: Candidate | null): void;
  choose(name: string): void;
}

/** R^2 with 4 decimals (3 when negative and large), "–" when missing. */
export function formatR2(r2: number | null | undefined): string {
  if (r2 == null || !Number.isFinite(r2)) return "–";
  return Math.abs(r2) >= 10 ? r2.toFixed(1) : r2.toFixed(4);
}

export function renderCandidates(list: Candidate[], events: CandidateEvents): HTMLTableElement {
  const table = html("table", "kw-candidates");
  const head = html("tr", "", "", html("thead", "", "", table));
  for (const h of ["name", "formula", "R²", "cplx"]) html("th", "", h, head);
  const body = html("tbody", "", "", table);
  for (const c of list) {
    const row = html("tr", "kw-candidate", "", body);
    row.dataset.candidate = c.name;
    row.title = `fix this edge to ${c.name} (R² ${formatR2(c.r2)}, complexity ${c.complexity})`;
    html("td", "kw-cand-name", c.name, row);
    renderFormula(html("td", "kw-cand-formula", "", row), c.formula);
    html("td", "kw-cand-r2", formatR2(c.r2), row);
    html("td", "kw-cand-complexity", String(c.complexity ?? ""), row);
    row.tabIndex = 0;
    row.setAttribute("role", "button");
    row.addEventListener("mouseenter", () => events.hover(c));
    row.addEventListener("mouseleave", () => events.hover(null));
    row.addEventListener("focus", () => events.hover(c));
    row.addEventListener("blur", () => events.hover(null));
    row.addEventListener("click", () => events.choose(c.name));
    row.addEventListener("keydown", (e) => {
      const next = e.key === "ArrowDown" ? row.nextElementSibling : e.key === "ArrowUp" ? row.previousElementSibling : null;
      if (e.key === "Enter" || e.key === " ") events.choose(c.name);
      else if (next) (next as HTMLElement).focus();
      else if (e.key !== "ArrowDown" && e.key !== "ArrowUp") return;
      e.preventDefault();
      e.stopPropagation(); // JupyterLab must not see keys the list used
    });
  }
  return table;
}
