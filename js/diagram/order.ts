// Node order for drawing only (the model is never changed): fewer crossing edges make a
// pruned network readable. Layered-graph drawing in the Sugiyama style: sweep the layers
// down and up, sort each layer by the barycentre (mean position) of its neighbours in the
// layer just placed, count the crossings after every sweep and keep the best order seen.
// The identity order is the first candidate, so the result never has more crossings than
// the model's own order, and a fully connected layer (where every order has the same
// crossings) keeps index order. Nodes with no drawn edge go to the end of their layer.

/** A drawn edge between node `u` of layer `l` and node `v` of layer `l + 1`. */
export interface Link {
  l: number;
  u: number;
  v: number;
}

/**
 * Crossings between two adjacent layers: pairs of links (u1, v1), (u2, v2) with
 * (pos(u1) - pos(u2)) * (pos(v1) - pos(v2)) < 0; links sharing an end never cross.
 * Counted as inversions with a Fenwick tree, O(E log V).
 *
 * @param links pairs [pu, pv] of positions in the lower / upper layer
 * @param nUpper number of positions in the upper layer (pv < nUpper)
 */
export function crossings(links: [number, number][], nUpper: number): number {
  const sorted = links.slice().sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const tree = new Float64Array(nUpper + 1);
  let seen = 0;
  let count = 0;
  for (const [, pv] of sorted) {
    // links seen so far (smaller pu, or equal pu and pv <= this pv) with pv' > pv cross this one
    let le = 0;
    for (let k = pv + 1; k > 0; k -= k & -k) le += tree[k];
    count += seen - le;
    for (let k = pv + 1; k <= nUpper; k += k & -k) tree[k] += 1;
    seen++;
  }
  return count;
}

/** Total crossings of `links` when layer l's node `i` is drawn at position `pos[l][i]`. */
export function totalCrossings(links: Link[], pos: number[][]): number {
  const per = new Map<number, [number, number][]>();
  for (const { l, u, v } of links) {
    if (!per.has(l)) per.set(l, []);
    per.get(l)!.push([pos[l][u], pos[l + 1][v]]);
  }
  let total = 0;
  per.forEach((pairs, l) => (total += crossings(pairs, pos[l + 1].length)));
  return total;
}

const positions = (order: number[][]): number[][] =>
  order.map((row) => {
    const p = new Array<number>(row.length);
    row.forEach((node, k) => (p[node] = k));
    return p;
  });

/** Sort one layer by the mean position of each node's neighbours; nodes without any keep their place. */
function sortLayer(row: number[], neighbours: number[][], refPos: number[]): number[] {
  const key = row.map((node, k) => {
    const ns = neighbours[node];
    if (!ns.length) return k;
    let s = 0;
    for (const n of ns) s += refPos[n];
    return s / ns.length;
  });
  const idx = row.map((_, k) => k);
  idx.sort((a, b) => key[a] - key[b] || a - b);
  return idx.map((k) => row[k]);
}

/**
 * Order the nodes of each layer to reduce crossings of `links`.
 *
 * @param sizes nodes per layer
 * @param links drawn edges (several between the same pair are fine)
 * @param sweeps number of down + up sweep pairs
 * @returns `order[l]` = node indices of layer l from left to right; the identity order
 *   unless another order has strictly fewer crossings
 */
export function orderNodes(sizes: number[], links: Link[], sweeps = 6): number[][] {
  const down: number[][][] = sizes.map((n) => Array.from({ length: n }, () => []));
  const up: number[][][] = sizes.map((n) => Array.from({ length: n }, () => []));
  for (const { l, u, v } of links) {
    down[l + 1][v].push(u); // neighbours of an upper node in the layer below
    up[l][u].push(v); // neighbours of a lower node in the layer above
  }
  let order = sizes.map((n) => Array.from({ length: n }, (_, i) => i));
  let best = order;
  let bestCount = totalCrossings(links, positions(order));
  for (let s = 0; s < sweeps && bestCount > 0; s++) {
    for (let l = 1; l < sizes.length; l++) {
      order = order.slice();
      order[l] = sortLayer(order[l], down[l], positions([order[l - 1]])[0]);
    }
    for (let l = sizes.length - 2; l >= 0; l--) {
      order = order.slice();
      order[l] = sortLayer(order[l], up[l], positions([order[l + 1]])[0]);
    }
    const count = totalCrossings(links, positions(order));
    if (count < bestCount) {
      best = order;
      bestCount = count;
    }
  }
  // nodes without any drawn edge cross nothing: draw them after the connected ones
  return best.map((row, l) => {
    const linked = (i: number): boolean => down[l][i].length > 0 || up[l][i].length > 0;
    return [...row.filter(linked), ...row.filter((i) => !linked(i))];
  });
}
