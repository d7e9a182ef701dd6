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
  const keys = new Int32Array(links.length);
  for (let k = 0; k < links.length; k++) keys[k] = links[k][0] * nUpper + links[k][1];
  return crossingsOfKeys(keys, nUpper);
}

/**
 * Crossings of links given as keys pu * nUpper + pv (sorted here, in place): the same count
 * as `crossings` with no array per link (the first layout runs before V8 optimises it, where
 * every small array costs an allocation, and every non-integer number too: keys and counts are
 * small integers in Int32Arrays).
 */
function crossingsOfKeys(keys: Int32Array, nUpper: number): number {
  keys.sort(); // numeric: by pu, then pv
  const tree = new Int32Array(nUpper + 1);
  let count = 0;
  for (let seen = 0; seen < keys.length; seen++) {
    const pv = keys[seen] % nUpper;
    // links seen so far (smaller pu, or equal pu and pv <= this pv) with pv' > pv cross this one
    let le = 0;
    for (let k = pv + 1; k > 0; k -= k & -k) le += tree[k];
    count += seen - le;
    for (let k = pv + 1; k <= nUpper; k += k & -k) tree[k] += 1;
  }
  return count;
}

/** Total crossings of `links` when layer l's node `i` is drawn at position `pos[l][i]`. */
export function totalCrossings(links: Link[], pos: number[][]): number {
  const perLayer = new Int32Array(pos.length);
  for (const link of links) perLayer[link.l]++;
  let total = 0;
  for (let l = 0; l + 1 < pos.length; l++) {
    if (!perLayer[l]) continue;
    const nUpper = pos[l + 1].length;
    const keys = new Int32Array(perLayer[l]);
    let m = 0;
    for (const link of links) if (link.l === l) keys[m++] = pos[l][link.u] * nUpper + pos[l + 1][link.v];
    total += crossingsOfKeys(keys, nUpper);
  }
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
