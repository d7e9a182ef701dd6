// Where the plot boxes of one layer of edges go. A layer's band has one or more rows of
// boxes; an edge's box belongs on its own straight line from source to target node, and at
// row height y that line passes through x(y) = a.x + (b.x - a.x) * (a.y - y) / (a.y - b.y).
// Boxes are taken left to right (by where their line crosses the band's middle) and each
// goes to the row where it lands nearest its own line, given the boxes already placed there
// (at least `pitch` apart) and rows already full; ties go to the row nearest the middle.
// A last right-to-left pass per row keeps every box inside [lo, hi]. Uncrowded boxes sit
// exactly on their lines; crowded ones move aside as little as this greedy finds.
// A page draws the diagram once, mostly before V8 has optimised this code, so the loops
// below allocate nothing per step (no destructuring, no tuples, typed arrays): unoptimised,
// each array made in an inner loop costs an allocation and soon a garbage collection.

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
  const ax = line.a[0];
  const ay = line.a[1];
  const bx = line.b[0];
  const by = line.b[1];
  if (ay === by) return (ax + bx) / 2;
  return ax + ((bx - ax) * (ay - y)) / (ay - by);
}

/** Where a block of `c` touching boxes with sum `sm` (of want - offset in block) starts: its
 * mean, kept inside [lo, hi - (c - 1) pitch] (lo wins). */
function start(c: number, sm: number, pitch: number, lo: number, hi: number): number {
  const mean = sm / c;
  const x = mean > lo ? mean : lo;
  const last = hi - (c - 1) * pitch;
  const cap = last > lo ? last : lo;
  return x < cap ? x : cap;
}

/**
 * Positions at least `pitch` apart inside [lo, hi], in the order of `want`, at the least
 * sum of squared distances to `want` (pool-adjacent-violators over blocks of touching boxes).
 *
 * @returns xs[m] for want[m]
 */
export function centred(want: ArrayLike<number>, pitch: number, lo: number, hi: number): number[] {
  const n = want.length;
  const idx = new Array<number>(n);
  for (let m = 0; m < n; m++) idx[m] = m;
  idx.sort((p, q) => want[p] - want[q] || p - q);
  // a stack of blocks: first slot, count, sum of (want - offset in block), start
  const first = new Int32Array(n);
  const count = new Int32Array(n);
  const sum = new Float64Array(n);
  const at = new Float64Array(n);
  let top = 0;
  for (let slot = 0; slot < n; slot++) {
    let f = slot;
    let c = 1;
    let sm = want[idx[slot]];
    let st = start(c, sm, pitch, lo, hi);
    while (top > 0) {
      const p = top - 1;
      if (at[p] + count[p] * pitch <= st + 1e-9) break;
      top--;
      sm = sum[p] + sm - c * count[p] * pitch;
      c += count[p];
      f = first[p];
      st = start(c, sm, pitch, lo, hi);
    }
    first[top] = f;
    count[top] = c;
    sum[top] = sm;
    at[top] = st;
    top++;
  }
  const xs = new Array<number>(n);
  for (let b = 0; b < top; b++) {
    const s0 = at[b];
    for (let t = 0; t < count[b]; t++) xs[idx[first[b] + t]] = s0 + t * pitch;
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
  const n = lines.length;
  const midY = (rowY[0] + rowY[nRows - 1]) / 2;
  const at = new Float64Array(n * nRows);
  const mid = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    for (let r = 0; r < nRows; r++) at[k * nRows + r] = lineX(lines[k], rowY[r]);
    mid[k] = lineX(lines[k], midY);
  }
  return placeAt(at, n, nRows, pitch, lo, hi, byMid(mid, null));
}

/**
 * Line indices by `mid` (ties by index): `prev` when it is already in that order (the next
 * try of bandRows has nearly the same mids), else sorted. The order is unique, so reusing it
 * gives what sorting would.
 */
function byMid(mid: Float64Array, prev: number[] | null): number[] {
  const n = mid.length;
  if (prev && prev.length === n) {
    let ok = true;
    for (let o = 1; o < n && ok; o++) {
      const p = prev[o - 1];
      const q = prev[o];
      ok = mid[p] < mid[q] || (mid[p] === mid[q] && p < q);
    }
    if (ok) return prev;
  }
  const order = new Array<number>(n);
  for (let k = 0; k < n; k++) order[k] = k;
  order.sort((p, q) => mid[p] - mid[q] || p - q);
  return order;
}

/**
 * placeInRows from each line's x at every row (`at[k * nRows + r]`), taken in `order` (by
 * x at the band's middle, byMid): the greedy reads these many times, so they are computed once, and the loops use
 * no function calls (a first render runs this before V8 has optimised it).
 */
function placeAt(at: Float64Array, n: number, nRows: number, pitch: number, lo: number, hi: number, order: number[]): Box[] {
  const perRow = Math.max(1, Math.floor((hi - lo) / pitch + 1e-9) + 1);
  const midRow = (nRows - 1) / 2;
  const right = new Float64Array(nRows).fill(-Infinity);
  const count = new Int32Array(nRows);
  const rowOf = new Int32Array(n);
  for (let o = 0; o < n; o++) {
    const k = order[o];
    let best = -1;
    let bestCost = Infinity;
    let bestX = 0;
    for (let r = 0; r < nRows; r++) {
      if (count[r] >= perRow) continue;
      const line = at[k * nRows + r];
      // x = max(min(hi, max(lo, line)), right + pitch); cost = |x - line| + 1e-3 |r - midRow|
      let x = line > lo ? line : lo;
      if (x > hi) x = hi;
      const min = right[r] + pitch;
      if (min > x) x = min;
      const dr = r - midRow;
      const cost = (x > line ? x - line : line - x) + 1e-3 * (dr < 0 ? -dr : dr);
      if (cost < bestCost) {
        best = r;
        bestCost = cost;
        bestX = x;
      }
    }
    if (best < 0) {
      best = nRows - 1; // over capacity: the caller sized the rows
      bestX = right[best] + pitch;
    }
    rowOf[k] = best;
    right[best] = bestX;
    count[best]++;
  }
  // within each row (members left to right, as placed): as close to the lines as the pitch
  // allows (least squares, bounded)
  const out = new Array<Box>(n);
  const members = new Int32Array(n);
  const want = new Float64Array(n);
  for (let r = 0; r < nRows; r++) {
    let m = 0;
    for (let o = 0; o < n; o++) {
      const k = order[o];
      if (rowOf[k] !== r) continue;
      members[m] = k;
      want[m] = at[k * nRows + r];
      m++;
    }
    const xs = centred(want.subarray(0, m), pitch, lo, hi);
    for (let q = 0; q < m; q++) out[members[q]] = { x: xs[q], row: r };
  }
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
  const n = ends.length;
  const perRow = Math.max(1, Math.floor((hi - lo) / pitch + 1e-9) + 1);
  const fewest = Math.max(1, Math.ceil(n / perRow));
  const src = new Float64Array(n);
  const run = new Float64Array(n); // target x - source x
  for (let k = 0; k < n; k++) {
    src[k] = ends[k][0];
    run[k] = ends[k][1] - ends[k][0];
  }
  let out = { rows: fewest, boxes: [] as Box[], height: 0 };
  let worst = Infinity;
  let order: number[] | null = null;
  for (let rows = fewest; rows <= fewest + extra; rows++) {
    const height = 2 * lineGap + rows * rowPitch;
    // a line from (src, 0) to (src + run, -height) at row height y: x = src + (run * -y) / height (lineX)
    const at = new Float64Array(n * rows);
    const mid = new Float64Array(n);
    const midUp = (lineGap + 0.5 * rowPitch + (lineGap + (rows - 0.5) * rowPitch)) / 2;
    for (let k = 0; k < n; k++) {
      for (let r = 0; r < rows; r++) at[k * rows + r] = src[k] + (run[k] * (lineGap + (r + 0.5) * rowPitch)) / height;
      mid[k] = src[k] + (run[k] * midUp) / height;
    }
    order = byMid(mid, order);
    const boxes = placeAt(at, n, rows, pitch, lo, hi, order);
    let off = 0;
    for (let k = 0; k < n; k++) {
      const d = boxes[k].x - at[k * rows + boxes[k].row];
      if ((d < 0 ? -d : d) > off) off = d < 0 ? -d : d;
    }
    if (off > 0.9 * worst) break; // a row more hardly helps (a dense band): keep the fewer rows
    out = { rows, boxes, height };
    worst = off;
    if (off <= tolerance) break; // every line runs through its box
  }
  return out;
}
