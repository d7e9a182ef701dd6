// Where the plot boxes of one layer of edges go. A layer's band has one or more rows of
// boxes; an edge's box belongs on its own straight line from source to target node, and at
// row height y that line passes through x(y) = a.x + (b.x - a.x) * (a.y - y) / (a.y - b.y).
// Boxes are taken left to right (by where their line crosses the band's middle) and each
// goes to the row where it lands nearest its own line, given the boxes already placed there
// (at least `pitch` apart) and rows already full; ties go to the row nearest the middle.
// A last right-to-left pass per row keeps every box inside [lo, hi]. Uncrowded boxes sit
// exactly on their lines; crowded ones move aside as little as this greedy finds.

export interface Line {
  a: [number, number]; // source node (x, y)
  b: [number, number]; // target node (x, y), above the source (smaller y)
}

export interface Box {
  x: number; // box centre
  row: number; // index into rowY
}

/** x of `line` at height `y` (the straight line from a to b, extended). */
export function lineX(line: Line, y: number): number {
  const [ax, ay] = line.a;
  const [bx, by] = line.b;
  if (ay === by) return (ax + bx) / 2;
  return ax + ((bx - ax) * (ay - y)) / (ay - by);
}

/**
 * Positions at least `pitch` apart inside [lo, hi], in the order of `want`, at the least
 * sum of squared distances to `want` (pool-adjacent-violators over blocks of touching boxes).
 *
 * @returns xs[m] for want[m]
 */
export function centred(want: number[], pitch: number, lo: number, hi: number): number[] {
  const idx = want.map((_, m) => m).sort((p, q) => want[p] - want[q] || p - q);
  // block: first slot, count, sum of (want - offset in block)
  const blocks: { first: number; n: number; sum: number }[] = [];
  const start = (bk: { n: number; sum: number }): number =>
    Math.min(Math.max(bk.sum / bk.n, lo), Math.max(lo, hi - (bk.n - 1) * pitch));
  idx.forEach((m, slot) => {
    let cur = { first: slot, n: 1, sum: want[m] };
    while (blocks.length) {
      const prev = blocks[blocks.length - 1];
      if (start(prev) + prev.n * pitch <= start(cur) + 1e-9) break;
      blocks.pop();
      cur = { first: prev.first, n: prev.n + cur.n, sum: prev.sum + cur.sum - cur.n * prev.n * pitch };
    }
    blocks.push(cur);
  });
  const xs = new Array<number>(want.length);
  for (const bk of blocks) {
    const s0 = start(bk);
    for (let t = 0; t < bk.n; t++) xs[idx[bk.first + t]] = s0 + t * pitch;
  }
  return xs;
}

/**
 * Place one box per line in the rows at heights `rowY`, boxes of a row at least `pitch`
 * apart (centre to centre) and inside [lo, hi].
 *
 * @param lines one per edge, in any order
 * @param rowY heights of the rows (CSS px); needs rowY.length * floor((hi - lo) / pitch + 1) >= lines.length
 * @returns boxes[k] for lines[k]
 */
export function placeInRows(lines: Line[], rowY: number[], pitch: number, lo: number, hi: number): Box[] {
  const nRows = Math.max(1, rowY.length);
  const perRow = Math.max(1, Math.floor((hi - lo) / pitch + 1e-9) + 1);
  const midY = (rowY[0] + rowY[nRows - 1]) / 2;
  const midRow = (nRows - 1) / 2;
  // every line's x at every row, computed once (the greedy below reads each many times)
  const at = new Float64Array(lines.length * nRows);
  const mid = new Float64Array(lines.length);
  lines.forEach((line, k) => {
    for (let r = 0; r < nRows; r++) at[k * nRows + r] = lineX(line, rowY[r]);
    mid[k] = lineX(line, midY);
  });
  const order = lines.map((_, k) => k).sort((p, q) => mid[p] - mid[q] || p - q);
  const right = new Array<number>(nRows).fill(-Infinity);
  const count = new Array<number>(nRows).fill(0);
  const members: number[][] = Array.from({ length: nRows }, () => []);
  const out: Box[] = lines.map(() => ({ x: 0, row: 0 }));
  for (const k of order) {
    let best = -1;
    let bestCost = Infinity;
    let bestX = 0;
    for (let r = 0; r < nRows; r++) {
      if (count[r] >= perRow) continue;
      const line = at[k * nRows + r];
      const x = Math.max(Math.min(hi, Math.max(lo, line)), right[r] + pitch);
      const cost = Math.abs(x - line) + 1e-3 * Math.abs(r - midRow);
      if (cost < bestCost) [best, bestCost, bestX] = [r, cost, x];
    }
    if (best < 0) [best, bestX] = [nRows - 1, right[nRows - 1] + pitch]; // over capacity: the caller sized the rows
    out[k] = { x: bestX, row: best };
    right[best] = bestX;
    count[best]++;
    members[best].push(k);
  }
  // within each row: as close to the lines as the pitch allows (least squares, bounded)
  members.forEach((row, r) => {
    const want = row.map((k) => at[k * nRows + r]);
    const xs = centred(want, pitch, lo, hi);
    row.forEach((k, m) => (out[k].x = xs[m]));
  });
  return out;
}

/**
 * How many rows a band needs, and the boxes: the fewest rows (from the fewest that hold every
 * box, up to `extra` more) at which every edge's line runs through its box; a row more is
 * added only while it brings the farthest box at least 10% closer to its line.
 * Works in band coordinates: source nodes at y = 0, target nodes at y = -(band height).
 *
 * @param ends (source x, target x) of each edge
 * @param lineGap room between a node row and the nearest box row (px)
 * @param rowPitch distance between rows (px)
 * @param tolerance how far (px) a box centre may sit from its line (half a box: the line runs through it)
 * @returns rows, boxes (row 0 nearest the sources) and the band height
 */
export function bandRows(
  ends: [number, number][],
  lineGap: number,
  rowPitch: number,
  pitch: number,
  lo: number,
  hi: number,
  tolerance = pitch / 2,
  extra = 3,
): { rows: number; boxes: Box[]; height: number } {
  const perRow = Math.max(1, Math.floor((hi - lo) / pitch + 1e-9) + 1);
  const fewest = Math.max(1, Math.ceil(ends.length / perRow));
  let out = { rows: fewest, boxes: [] as Box[], height: 0 };
  let worst = Infinity;
  for (let rows = fewest; rows <= fewest + extra; rows++) {
    const height = 2 * lineGap + rows * rowPitch;
    const rowY = Array.from({ length: rows }, (_, r) => -(lineGap + (r + 0.5) * rowPitch));
    const lines: Line[] = ends.map(([ax, bx]) => ({ a: [ax, 0], b: [bx, -height] }));
    const boxes = placeInRows(lines, rowY, pitch, lo, hi);
    let off = 0;
    boxes.forEach((b, k) => (off = Math.max(off, Math.abs(b.x - lineX(lines[k], rowY[b.row])))));
    if (off > 0.9 * worst) break; // a row more hardly helps (a dense band): keep the fewer rows
    out = { rows, boxes, height };
    worst = off;
    if (off <= tolerance) break; // every line runs through its box
  }
  return out;
}
