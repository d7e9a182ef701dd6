// Timeline panel: the version tree as a git graph. Clicking a version (or Enter on it)
// checks it out; "branch here" rewinds to the highlighted version, which starts a new
// round (lane). The highlight is what the user sees: a clicked version until the kernel
// answers, then the current one; a new version clears a stale click. Rows form one Tab
// stop (roving tabindex: arrows, Home, End).
import type { Action, History, Version } from "../model";
import { svg, html } from "../plot";
import type { Control } from "../panels/controls";
import { fmtLoss } from "../panels/format";
import { formulaText } from "../panels/formula";
import { LANE_W, PAD, ROW_H, laneX, linkPath, rowY, versionGraph } from "./lanes";

export function versionTooltip(v: Version): string {
  const lines = [`version ${v.id}: ${v.operation}`];
  if (v.parent != null) lines.push(`parent ${v.parent}`);
  lines.push(`RMSE train ${fmtLoss(v.train_loss)}, test ${fmtLoss(v.test_loss)}`);
  lines.push(`${v.n_edges} edges`);
  if (v.formula) lines.push(formulaText(v.formula));
  return lines.join("\n");
}

export class Timeline {
  readonly el: HTMLElement;
  private head: HTMLElement;
  private which: HTMLElement; // which RMSE the rows show
  private body: HTMLElement;
  private branch: HTMLButtonElement;
  private picked: string | null = null; // clicked, not yet the kernel's current version
  private current = "";
  private ids: string[] = [];
  private revealing: string | null = null; // a reveal waiting for the next frame
  private branchControl: Control = { disabled: false, title: "" };
  private versionControl: Control = { disabled: false, title: "" };

  constructor(private send: (a: Action) => void) {
    this.el = html("div", "kw-timeline kw-panel");
    const bar = html("div", "kw-panel-head", "", this.el);
    this.head = html("span", "kw-panel-title", "history", bar);
    this.which = html("span", "kw-loss-which", "", bar);
    this.branch = html("button", "kw-button", "branch here", bar);
    this.branch.type = "button";
    this.branch.dataset.action = "rewind";
    this.branch.addEventListener("click", () => {
      const v = this.highlighted();
      if (v && !this.branch.disabled) this.send({ action: "rewind", version: v });
    });
    this.body = html("div", "kw-graph", "", this.el);
    this.body.setAttribute("role", "listbox");
    this.body.setAttribute("aria-label", "versions");
    this.body.addEventListener("keydown", this.onKey);
  }

  /** The version "branch here" uses: the one highlighted on screen. */
  highlighted(): string | null {
    return this.picked ?? (this.current || null);
  }

  setControls(branch: Control, versions: Control): void {
    this.branchControl = branch;
    this.versionControl = versions;
    this.applyBranch();
    for (const row of this.rows()) row.title = this.rowTitle(row);
  }

  update(history: History | undefined): void {
    const versions = history?.versions ?? [];
    const before = this.current;
    const grew = versions.length > this.ids.length;
    this.current = history?.current ?? "";
    // The click was answered (or superseded by a new version): show the kernel's current.
    if (this.picked && (this.current !== before || grew || this.current === this.picked || !versions.some((v) => v.id === this.picked))) {
      this.picked = null;
    }
    const focusedId = this.body.contains(document.activeElement) ? (document.activeElement as HTMLElement).dataset?.version : undefined;
    const { rows, links, lanes } = versionGraph(versions);
    this.ids = rows.map((r) => r.version.id);
    this.head.textContent = versions.length ? `history · version ${this.current}` : "history";
    this.head.title = "each row: version, operation, test RMSE (train RMSE if no test set), edges";
    const tests = versions.filter((v) => v.test_loss != null).length;
    const mixed = tests > 0 && versions.some((v) => v.test_loss == null && v.train_loss != null);
    this.which.textContent = !versions.length ? "" : tests ? `test RMSE${mixed ? " (* train)" : ""}` : "train RMSE";
    this.which.title = "the loss each row shows: RMSE on the test set (train set when a version has no test loss)";
    const graphW = 2 * PAD + (lanes - 1) * LANE_W;
    const g = svg("svg", { class: "kw-graph-lines", width: graphW, height: rows.length * ROW_H });
    for (const link of links) svg("path", { class: `kw-link kw-lane-${link.to.lane % 6}`, d: linkPath(link) }, g);
    const list = html("div", "kw-versions");
    list.style.paddingLeft = `${graphW}px`;
    for (const r of rows) {
      const v = r.version;
      const cls = ["kw-dot", `kw-lane-${r.lane % 6}`];
      if (v.id === this.current) cls.push("kw-current");
      svg("circle", { class: cls.join(" "), cx: laneX(r.lane), cy: rowY(r.row), r: v.id === this.current ? 5.5 : 4 }, g);
      const row = html("div", "kw-version", "", list);
      row.dataset.version = v.id;
      row.setAttribute("role", "option");
      row.tabIndex = -1;
      row.classList.toggle("kw-current", v.id === this.current);
      html("span", "kw-version-id", v.id, row);
      html("span", "kw-version-op", v.operation, row);
      const loss = v.test_loss ?? v.train_loss;
      const which = v.test_loss != null ? "test" : v.train_loss != null ? "train" : null;
      const cell = html("span", "kw-version-loss", fmtLoss(loss) + (mixed && which === "train" ? "*" : ""), row);
      cell.title = which ? `${which} RMSE` : "no loss recorded (made before any data)";
      html("span", "kw-version-edges", `${v.n_edges}e`, row);
      row.dataset.tip = versionTooltip(v);
      row.title = this.rowTitle(row);
      row.addEventListener("click", () => this.pick(v.id));
    }
    this.body.replaceChildren(g, list);
    this.mark();
    const stop = this.row(focusedId ?? "") ?? this.row(this.highlighted() ?? "") ?? this.rows()[0];
    if (stop) stop.tabIndex = 0;
    if (focusedId && stop) stop.focus({ preventScroll: true });
    this.reveal(this.current, false);
  }

  private rowTitle(row: HTMLElement): string {
    const base = row.dataset.tip ?? "";
    return this.versionControl.title ? `${base}\n${this.versionControl.title}` : base;
  }

  private rows(): HTMLElement[] {
    return Array.from(this.body.querySelectorAll<HTMLElement>("[data-version]"));
  }

  private row(id: string): HTMLElement | null {
    return this.rows().find((r) => r.dataset.version === id) ?? null;
  }

  /** Highlight (kw-selected) exactly the version branch-here would use. */
  private mark(): void {
    const h = this.highlighted();
    for (const row of this.rows()) {
      const on = row.dataset.version === h;
      row.classList.toggle("kw-selected", on);
      row.setAttribute("aria-selected", String(on));
    }
    this.applyBranch();
  }

  private applyBranch(): void {
    const h = this.highlighted();
    this.branch.textContent = h ? `branch from ${h}` : "branch here";
    this.branch.disabled = !h || this.branchControl.disabled;
    this.branch.title = this.branchControl.disabled ? this.branchControl.title : `start a new round from version ${h}`;
  }

  /** Scroll the graph (not the page) so version `id` is visible; after a redraw, in the next
   * animation frame (reading clientHeight now would force a layout of the whole page). */
  private reveal(id: string, now = true): void {
    if (!now) {
      if (typeof requestAnimationFrame === "undefined") return this.reveal(id);
      const pending = this.revealing !== null;
      this.revealing = id;
      if (!pending) requestAnimationFrame(() => this.revealing !== null && this.reveal(this.revealing));
      return;
    }
    this.revealing = null;
    const k = this.ids.indexOf(id);
    if (k < 0) return;
    const top = k * ROW_H;
    const b = this.body;
    if (top < b.scrollTop) b.scrollTop = top;
    else if (top + ROW_H > b.scrollTop + b.clientHeight) b.scrollTop = top + ROW_H - b.clientHeight;
  }

  private pick(id: string): void {
    if (this.versionControl.disabled) return;
    this.picked = id === this.current ? null : id;
    this.mark();
    if (id !== this.current) this.send({ action: "checkout", version: id });
  }

  private onKey = (e: KeyboardEvent): void => {
    const rows = this.rows();
    const at = rows.indexOf(e.target as HTMLElement);
    if (at < 0) return;
    let to = -1;
    if (e.key === "ArrowDown") to = Math.min(rows.length - 1, at + 1);
    else if (e.key === "ArrowUp") to = Math.max(0, at - 1);
    else if (e.key === "Home") to = 0;
    else if (e.key === "End") to = rows.length - 1;
    else if (e.key === "Enter" || e.key === " ") this.pick(rows[at].dataset.version ?? "");
    else return;
    e.preventDefault();
    e.stopPropagation(); // JupyterLab must not move between cells
    if (to >= 0) {
      rows[at].tabIndex = -1;
      rows[to].tabIndex = 0;
      rows[to].focus();
      this.reveal(rows[to].dataset.version ?? "");
    }
  };
}
