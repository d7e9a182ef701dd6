// Git-graph geometry of the version tree: one row per version (oldest first), one lane
// per round r of the version ids "r.s" (a rewind starts a new round, KAN 2.0 §5), and a
// link from each version to its parent.
import type { Version } from "../model";

export const ROW_H = 22;
export const LANE_W = 16;
export const PAD = 10;

export interface VersionRow {
  version: Version;
  row: number;
  lane: number;
}

export interface Link {
  from: VersionRow; // parent
  to: VersionRow;
}

export interface Graph {
  rows: VersionRow[];
  links: Link[];
  lanes: number;
}

/** The round of a version id "r.s" (0 when malformed). */
export function roundOf(id: string): number {
  const r = parseInt(String(id).split(".")[0], 10);
  return Number.isFinite(r) ? r : 0;
}

export function versionGraph(versions: Version[]): Graph {
  const ordered = versions
    .map((v, k) => ({ v, k }))
    .sort((a, b) => (a.v.time ?? 0) - (b.v.time ?? 0) || a.k - b.k)
    .map(({ v }) => v);
  const rounds = [...new Set(ordered.map((v) => roundOf(v.id)))].sort((a, b) => a - b);
  const laneOf = new Map(rounds.map((r, k) => [r, k]));
  const rows = ordered.map((version, row) => ({ version, row, lane: laneOf.get(roundOf(version.id)) ?? 0 }));
  const byId = new Map(rows.map((r) => [r.version.id, r]));
  const links: Link[] = [];
  for (const to of rows) {
    const from = to.version.parent != null ? byId.get(to.version.parent) : undefined;
    if (from) links.push({ from, to });
  }
  return { rows, links, lanes: Math.max(1, rounds.length) };
}

export const laneX = (lane: number): number => PAD + lane * LANE_W;
export const rowY = (row: number): number => row * ROW_H + ROW_H / 2;

/** SVG path from a parent dot to a child dot: straight in one lane, else a bend into the child's lane. */
export function linkPath({ from, to }: Link): string {
  const x0 = laneX(from.lane);
  const y0 = rowY(from.row);
  const x1 = laneX(to.lane);
  const y1 = rowY(to.row);
  if (x0 === x1) return `M${x0} ${y0}L${x1} ${y1}`;
  const yb = Math.min(y1, y0 + ROW_H);
  return `M${x0} ${y0}C${x0} ${yb} ${x1} ${y0} ${x1} ${yb}L${x1} ${y1}`;
}
