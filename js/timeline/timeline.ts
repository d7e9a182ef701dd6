// Timeline panel: the version tree as a git graph. Clicking a version checks it out;
// "branch here" rewinds to the selected version, which starts a new round (lane).
import type { Action, History, Version } from "../model";
import { html, num, svg } from "../plot";
import { formulaText } from "../panels/formula";
import { LANE_W, PAD, ROW_H, laneX, linkPath, rowY, versionGraph } from "./lanes";

export function versionTooltip(v: Version): string {
  const lines = [`version ${v.id}: ${v.operation}`];
  if (v.parent != null) lines.push(`parent ${v.parent}`);
  lines.push(`loss train ${num(v.train_loss)}, test ${num(v.test_loss)}`);
  lines.push(`${v.n_edges} edges`);
  if (v.formula) lines.push(formulaText(v.formula));
  return lines.join("\n");
}

export class Timeline {
  readonly el: HTMLElement;
  private head: HTMLElement;
  private body: HTMLElement;
  private branch: HTMLButtonElement;
  private selected: string | null = null;
  private current = "";
  private count = 0;

  constructor(private send: (a: Action) => void) {
    this.el = html("div", "kw-timeline kw-panel");
    const bar = html("div", "kw-panel-head", "", this.el);
    this.head = html("span", "kw-panel-title", "history", bar);
    this.branch = html("button", "kw-button", "branch here", bar);
    this.branch.type = "button";
    this.branch.dataset.action = "rewind";
    this.branch.title = "start a new round from the selected version";
    this.branch.addEventListener("click", () => {
      const v = this.selected ?? this.current;
      if (v) this.send({ action: "rewind", version: v });
    });
    this.body = html("div", "kw-graph", "", this.el);
  }

  update(history: History | undefined): void {
    const versions = history?.versions ?? [];
    this.current = history?.current ?? "";
    if (this.selected && !versions.some((v) => v.id === this.selected)) this.selected = null;
    const { rows, links, lanes } = versionGraph(versions);
    this.head.textContent = versions.length ? `history · version ${this.current}` : "history";
    this.branch.disabled = !(this.selected ?? this.current);
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
      row.classList.toggle("kw-current", v.id === this.current);
      row.classList.toggle("kw-selected", v.id === this.selected);
      row.title = versionTooltip(v);
      html("span", "kw-version-id", v.id, row);
      html("span", "kw-version-op", v.operation, row);
      html("span", "kw-version-loss", num(v.test_loss ?? v.train_loss), row);
      html("span", "kw-version-edges", `${v.n_edges}e`, row);
      row.addEventListener("click", () => this.pick(v.id));
    }
    this.body.replaceChildren(g, list);
    if (rows.length > this.count) this.body.scrollTop = this.body.scrollHeight;
    this.count = rows.length;
  }

  private pick(id: string): void {
    this.selected = id;
    for (const row of this.body.querySelectorAll<HTMLElement>("[data-version]")) {
      row.classList.toggle("kw-selected", row.dataset.version === id);
    }
    this.branch.disabled = false;
    this.send({ action: "checkout", version: id });
  }
}
