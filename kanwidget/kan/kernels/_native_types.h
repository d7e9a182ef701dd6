/* Per-type part of _native.c, included once per element type (T = float, double; see the
 * end of _native.c): the layer kernels, then fit's objective. */
#define T KAN_T

int SUF(kan_dense_basis)(const T *x, const double *t, const double *lut, const double *table,
                         T *out, int B, int I, int M, int k, int uniform, int nthreads) {
    if (k > KMAX || k < 0) return -2;
    const int NB = M - k;
    const int nt = threads_for(nthreads);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int b = 0; b < B; b++) {
        for (int i = 0; i < I; i++) {
            T *row = out + ((size_t)b * I + i) * NB;
            for (int a = 0; a < NB; a++) row[a] = 0;
            const double xv = (double)x[(size_t)b * I + i];
            double N[KMAX + 1];
            int j = locate_eval(t, lut, table, i, M, k, xv, uniform, N, NULL);
            if (j < 0) continue;
            for (int r = 0; r <= k; r++) {
                int a = j - k + r;
                if (a >= 0 && a < NB) row[a] = (T)N[r];
            }
        }
    }
    return 0;
}

int SUF(kan_dense_grad)(const T *x, const double *t, const double *lut, const double *table,
                        const T *g, T *gx, int B, int I, int M, int k, int uniform,
                        int nthreads) {
    if (k > KMAX || k < 0) return -2;
    const int NB = M - k;
    const int nt = threads_for(nthreads);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int b = 0; b < B; b++) {
        for (int i = 0; i < I; i++) {
            const T *row = g + ((size_t)b * I + i) * NB;
            const double xv = (double)x[(size_t)b * I + i];
            double N[KMAX + 1], dN[KMAX + 1];
            int j = locate_eval(t, lut, table, i, M, k, xv, uniform, N, dN);
            double acc = 0.0;
            if (j >= 0) {
                for (int r = 0; r <= k; r++) {
                    int a = j - k + r;
                    if (a >= 0 && a < NB) acc += dN[r] * (double)row[a];
                }
            }
            gx[(size_t)b * I + i] = (T)acc;
        }
    }
    return 0;
}

/* Rows of ws for the k + 1 basis functions of interval j (a zero row for those off the ends
 * of the knot vector, and for all of them outside the knot span), and their values as T. */
INLINE void SUF(pair_rows)(const T **wr, T *v, const T *wsi, const T *zero, const double *N,
                           int j, int k, int NB, int O) {
    for (int r = 0; r <= k; r++) {
        const int a = j - k + r;
        const int ok = j >= 0 && a >= 0 && a < NB;
        wr[r] = ok ? wsi + (size_t)a * O : zero;
        v[r] = ok ? (T)N[r] : (T)0;
    }
}

/* one (b, i) pair of the fused forward, one pass over the outputs (a single read-modify-
 * write of y per pair); KK and O are literals in the specialised copies */
INLINE void SUF(fwd_pair)(T *restrict yb, double *restrict r1, double *restrict r2,
                          const T *restrict wbi, const T *const *wr, const T *v, T bv, int KK,
                          int O, int stats) {
    if (!stats) {
#pragma omp simd
        for (int o = 0; o < O; o++) {
            T s = bv * wbi[o];
            for (int r = 0; r <= KK; r++) s += v[r] * wr[r][o];
            yb[o] += s;
        }
        return;
    }
#pragma omp simd
    for (int o = 0; o < O; o++) {
        T s = bv * wbi[o];
        for (int r = 0; r <= KK; r++) s += v[r] * wr[r][o];
        yb[o] += s;
        r1[o] += (double)s;
        r2[o] += (double)s * (double)s;
    }
}

/* specialise the spline order (3, the default, or any) and then the output count */
#define SWITCH_K(CALL_K)                                                                  \
    if (k == 3) { CALL_K(3) } else { CALL_K(k) }

/* per-edge mean and unbiased variance over B points from the double sums of phi, phi^2 */
static void SUF(edge_moments)(const double *s1, const double *s2, T *mean, T *var, size_t n,
                              int B) {
    const double denom = B > 1 ? (double)(B - 1) : 1.0;
    for (size_t e = 0; e < n; e++) {
        const double m = B > 0 ? s1[e] / B : 0.0, v = (s2[e] - s1[e] * m) / denom;
        mean[e] = (T)m;
        var[e] = (T)(v > 0 ? v : 0);
    }
}

/* the objective's regulariser gradient d reg / d var (I, O) turned, in place, into the factor
 * c of phi's upstream gradient c (phi - mean): lamb * 2 / (B - 1) d reg / d var */
static T *SUF(variance_share)(T *g_var, size_t n, double lamb, int B) {
    const double sc = lamb * 2.0 / (B > 1 ? B - 1 : 1);
    for (size_t e = 0; e < n; e++) g_var[e] = (T)((double)g_var[e] * sc);
    return g_var;
}

/* inlined into its two callers, so the plain kernel (C NULL) carries no cache branches */
INLINE int SUF(layer_forward)(const T *x, const T *base, const double *t, const double *lut,
                              const double *table, const T *wb, const T *ws, T *y, double *s1,
                              double *s2, T *mean, T *var, int B, int I, int O, int M, int k,
                              int uniform, int nthreads, const basis_cache *C) {
    if (k > KMAX || k < 0) return -2;
    const int NB = M - k;
    const int stats = s1 != NULL;
    int nt = threads_for(nthreads);
    if (nt > B) nt = B > 0 ? B : 1;
    const size_t nio = (size_t)I * O;
    double *acc = NULL; /* stats of threads 1.. (thread 0 writes s1, s2 directly) */
    if (stats) {
        memset(s1, 0, sizeof(double) * nio);
        memset(s2, 0, sizeof(double) * nio);
        if (nt > 1 && !(acc = (double *)calloc((size_t)(nt - 1) * 2 * nio, sizeof(double))))
            return -1;
    }
    T *zero = (T *)calloc((size_t)(O > 0 ? O : 1), sizeof(T)); /* read-only zero row */
    if (!zero) { free(acc); return -1; }
#pragma omp parallel num_threads(nt)
    {
        const int tid = THREAD_ID();
        double *a1 = !stats ? NULL : (tid == 0 ? s1 : acc + (size_t)(tid - 1) * 2 * nio);
        double *a2 = !stats ? NULL : (tid == 0 ? s2 : a1 + nio);
#pragma omp for schedule(static)
        for (int b = 0; b < B; b++) {
            T *yb = y + (size_t)b * O;
            for (int o = 0; o < O; o++) yb[o] = 0;
            for (int i = 0; i < I; i++) {
                const double xv = (double)x[(size_t)b * I + i];
                double N[KMAX + 1];
                int j = cached_eval(C, (size_t)b * I + i, t, lut, table, i, M, k, xv, uniform,
                                    N, NULL);
                const T bv = base[(size_t)b * I + i];
                const T *wbi = wb + (size_t)i * O, *wsi = ws + (size_t)i * NB * O;
                double *r1 = stats ? a1 + (size_t)i * O : NULL;
                double *r2 = stats ? a2 + (size_t)i * O : NULL;
                if (O == 1) { /* scalar path: no row pointers, no zero rows */
                    T phi = bv * wbi[0];
                    if (j >= 0) {
                        const int r0 = j - k < 0 ? k - j : 0, r1_ = j >= NB ? k - (j - NB + 1) : k;
                        for (int r = r0; r <= r1_; r++) phi += (T)N[r] * wsi[j - k + r];
                    }
                    yb[0] += phi;
                    if (stats) { r1[0] += (double)phi; r2[0] += (double)phi * (double)phi; }
                    continue;
                }
                const T *wr[KMAX + 1];
                T v[KMAX + 1];
                SUF(pair_rows)(wr, v, wsi, zero, N, j, k, NB, O);
#define FWD(OO) SUF(fwd_pair)(yb, r1, r2, wbi, wr, v, bv, KK_, OO, stats);
#define FWD_K(KK) { const int KK_ = KK; SWITCH_O(FWD) }
                SWITCH_K(FWD_K)
#undef FWD_K
#undef FWD
            }
        }
    }
    if (acc) {
        for (int q = 0; q < nt - 1; q++) {
            const double *p1 = acc + (size_t)q * 2 * nio, *p2 = p1 + nio;
            for (size_t e = 0; e < nio; e++) { s1[e] += p1[e]; s2[e] += p2[e]; }
        }
    }
    if (stats) SUF(edge_moments)(s1, s2, mean, var, nio, B);
    free(acc);
    free(zero);
    return 0;
}

int SUF(kan_forward)(const T *x, const T *base, const double *t, const double *lut,
                     const double *table, const T *wb, const T *ws, T *y, double *s1,
                     double *s2, T *mean, T *var, int B, int I, int O, int M, int k,
                     int uniform, int nthreads) {
    return SUF(layer_forward)(x, base, t, lut, table, wb, ws, y, s1, s2, mean, var, B, I, O, M,
                              k, uniform, nthreads, NULL);
}

/* one (b, i) pair of the fused backward, one pass over the outputs: the upstream gradient
 * of phi (gy, plus c (phi - mean) with stats), then every product that uses it.  gr holds
 * the gws rows to add to (a scratch row for missing ones); sx[r] gets sum_o g w_r. */
INLINE void SUF(bwd_pair)(const T *restrict gyb, const T *restrict ci, const T *restrict mi,
                          const T *restrict wbi, const T *const *wr, T *const *gr,
                          T *restrict gwbi, const T *v, T bv, T *gbase_bi, T *sx, int KK, int O,
                          int stats) {
    T sb = 0, s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    if (KK == 3) { /* four named accumulators: the vectoriser reduces scalars, not arrays */
        const T *w0 = wr[0], *w1 = wr[1], *w2 = wr[2], *w3 = wr[3];
        T *g0 = gr[0], *g1 = gr[1], *g2 = gr[2], *g3 = gr[3];
        const T v0 = v[0], v1 = v[1], v2 = v[2], v3 = v[3];
#define BWD3_BODY                                                                         \
            sb += g * wbi[o];                                                             \
            gwbi[o] += bv * g;                                                            \
            g0[o] += v0 * g;                                                              \
            g1[o] += v1 * g;                                                              \
            g2[o] += v2 * g;                                                              \
            g3[o] += v3 * g;                                                              \
            s0 += g * w0[o];                                                              \
            s1 += g * w1[o];                                                              \
            s2 += g * w2[o];                                                              \
            s3 += g * w3[o];
        if (stats) {
#pragma omp simd reduction(+ : sb, s0, s1, s2, s3)
            for (int o = 0; o < O; o++) {
                const T phi = bv * wbi[o] + v0 * w0[o] + v1 * w1[o] + v2 * w2[o] + v3 * w3[o];
                const T g = gyb[o] + ci[o] * (phi - mi[o]);
                BWD3_BODY
            }
        } else {
#pragma omp simd reduction(+ : sb, s0, s1, s2, s3)
            for (int o = 0; o < O; o++) {
                const T g = gyb[o];
                BWD3_BODY
            }
        }
#undef BWD3_BODY
        sx[0] = s0, sx[1] = s1, sx[2] = s2, sx[3] = s3;
    } else {
        for (int r = 0; r <= KK; r++) sx[r] = 0;
        for (int o = 0; o < O; o++) {
            T g = gyb[o];
            if (stats) {
                T phi = bv * wbi[o];
                for (int r = 0; r <= KK; r++) phi += v[r] * wr[r][o];
                g += ci[o] * (phi - mi[o]);
            }
            sb += g * wbi[o];
            gwbi[o] += bv * g;
            for (int r = 0; r <= KK; r++) {
                gr[r][o] += v[r] * g;
                sx[r] += g * wr[r][o];
            }
        }
    }
    if (gbase_bi) *gbase_bi = sb;
}

/* gy (B, O); c, mean (I, O) or NULL: the stats part of phi's upstream gradient is
 * c[i, o] (phi[b, i, o] - mean[i, o]).  Outputs (NULL to skip): gx, gbase (B, I),
 * gwb (I, O), gws (I, NB, O), all overwritten. */
INLINE int SUF(layer_backward)(const T *x, const T *base, const double *t, const double *lut,
                               const double *table, const T *wb, const T *ws, const T *gy,
                               const T *c, const T *mean, T *gx, T *gbase, T *gwb, T *gws, int B,
                               int I, int O, int M, int k, int uniform, int nthreads,
                               const basis_cache *C) {
    if (k > KMAX || k < 0) return -2;
    const int NB = M - k;
    const int stats = c != NULL;
    int nt = threads_for(nthreads);
    if (nt > B) nt = B > 0 ? B : 1;
    const size_t nwb = (size_t)I * O, nws = (size_t)I * NB * O;
    T *buf = NULL; /* weight gradients of threads 1.. (thread 0 writes gwb, gws directly) */
    if (nt > 1 && (gwb || gws) && !(buf = (T *)calloc((size_t)(nt - 1) * (nwb + nws), sizeof(T))))
        return -1;
    if (gwb) memset(gwb, 0, sizeof(T) * nwb);
    if (gws) memset(gws, 0, sizeof(T) * nws);
    /* a read-only zero row, and per thread k + 2 scratch rows that absorb the writes of
     * missing basis functions and of gradients nobody asked for */
    const size_t row = (size_t)(O > 0 ? O : 1);
    T *zero = (T *)calloc(row * (1 + (size_t)nt * (k + 2)), sizeof(T));
    if (!zero) { free(buf); return -1; }
#pragma omp parallel num_threads(nt)
    {
        const int tid = THREAD_ID();
        T *junk = zero + row * (1 + (size_t)tid * (k + 2));
        T *mywb = gwb, *myws = gws;
        if (tid > 0 && buf) {
            T *mine = buf + (size_t)(tid - 1) * (nwb + nws);
            mywb = gwb ? mine : NULL;
            myws = gws ? mine + nwb : NULL;
        }
#pragma omp for schedule(static)
        for (int b = 0; b < B; b++) {
            const T *gyb = gy + (size_t)b * O;
            for (int i = 0; i < I; i++) {
                const double xv = (double)x[(size_t)b * I + i];
                double N[KMAX + 1], dN[KMAX + 1];
                int j = cached_eval(C, (size_t)b * I + i, t, lut, table, i, M, k, xv, uniform,
                                    N, gx ? dN : NULL);
                const size_t bi = (size_t)b * I + i, io = (size_t)i * O;
                const T *ci = stats ? c + io : NULL, *mi = stats ? mean + io : NULL;
                T *gwbi = mywb ? mywb + io : junk + row * (k + 1);
                const T *wbi = wb + io, *wsi = ws + io * NB;
                if (O == 1) { /* scalar path */
                    const T bv = base[bi];
                    int r0 = 0, r1 = -1;
                    if (j >= 0) {
                        r0 = j - k < 0 ? k - j : 0;
                        r1 = j >= NB ? k - (j - NB + 1) : k;
                    }
                    T g = gyb[0];
                    if (stats) {
                        T phi = bv * wbi[0];
                        for (int r = r0; r <= r1; r++) phi += (T)N[r] * wsi[j - k + r];
                        g += ci[0] * (phi - mi[0]);
                    }
                    if (gbase) gbase[bi] = g * wbi[0];
                    if (mywb) mywb[io] += bv * g;
                    double acc = 0.0;
                    for (int r = r0; r <= r1; r++) {
                        const int a = j - k + r;
                        if (myws) myws[io * NB + a] += (T)N[r] * g;
                        if (gx) acc += dN[r] * (double)wsi[a];
                    }
                    if (gx) gx[bi] = (T)(acc * (double)g);
                    continue;
                }
                const T *wr[KMAX + 1];
                T *gr[KMAX + 1];
                T v[KMAX + 1], sx[KMAX + 1];
                SUF(pair_rows)(wr, v, wsi, zero, N, j, k, NB, O);
                for (int r = 0; r <= k; r++) {
                    const int a = j - k + r;
                    const int ok = j >= 0 && a >= 0 && a < NB && myws;
                    gr[r] = ok ? myws + io * NB + (size_t)a * O : junk + row * r;
                }
                T *gb = gbase ? gbase + bi : NULL;
#define BWD(OO) SUF(bwd_pair)(gyb, ci, mi, wbi, wr, gr, gwbi, v, base[bi], gb, sx, KK_, OO, stats);
#define BWD_K(KK) { const int KK_ = KK; SWITCH_O(BWD) }
                SWITCH_K(BWD_K)
#undef BWD_K
#undef BWD
                if (gx) {
                    double acc = 0.0;
                    for (int r = 0; r <= k; r++) {
                        const int a = j - k + r;
                        if (j >= 0 && a >= 0 && a < NB) acc += dN[r] * (double)sx[r];
                    }
                    gx[bi] = (T)acc;
                }
            }
        }
    }
    if (buf) {
        for (int q = 0; q < nt - 1; q++) {
            const T *mine = buf + (size_t)q * (nwb + nws);
            if (gwb) for (size_t e = 0; e < nwb; e++) gwb[e] += mine[e];
            if (gws) for (size_t e = 0; e < nws; e++) gws[e] += mine[nwb + e];
        }
    }
    free(buf);
    free(zero);
    return 0;
}

int SUF(kan_backward)(const T *x, const T *base, const double *t, const double *lut,
                      const double *table, const T *wb, const T *ws, const T *gy, const T *c,
                      const T *mean, T *gx, T *gbase, T *gwb, T *gws, int B, int I, int O,
                      int M, int k, int uniform, int nthreads) {
    return SUF(layer_backward)(x, base, t, lut, table, wb, ws, gy, c, mean, gx, gbase, gwb, gws,
                               B, I, O, M, k, uniform, nthreads, NULL);
}

/* Gradient reaching a hidden layer's input h (B, I) in the fused objective:
 *   gh = gx + gbase * silu'(h) + [g_xstd_i * scale (h - mean_i) / ((B - 1) std_i)],
 * the last term (the regulariser's input std) only when g_xstd is not NULL and std_i > 0.
 * In place on gx. */
int SUF(kan_hidden_grad)(const T *h, T *gx, const T *gbase, const T *mean, const T *std,
                         const T *g_xstd, double scale, int B, int I) {
    double *coef = (double *)calloc((size_t)(I > 0 ? I : 1), sizeof(double));
    if (!coef) return -1;
    if (g_xstd)
        for (int i = 0; i < I; i++)
            coef[i] = std[i] > 0 ? (double)g_xstd[i] * scale / ((B > 1 ? B - 1 : 1) * (double)std[i])
                                 : 0.0;
    for (int b = 0; b < B; b++)
        for (int i = 0; i < I; i++) {
            const size_t e = (size_t)b * I + i;
            const double x = (double)h[e], sig = 1.0 / (1.0 + exp(-x));
            double g = (double)gx[e] + (double)gbase[e] * sig * (1.0 + x * (1.0 - sig));
            if (g_xstd) g += (x - (double)mean[i]) * coef[i];
            gx[e] = (T)g;
        }
    free(coef);
    return 0;
}

/* Column mean and unbiased std of x (B, I), two passes in double. */
int SUF(kan_colstats)(const T *x, T *mean, T *std, int B, int I) {
    double *m = (double *)calloc((size_t)(I > 0 ? I : 1) * 2, sizeof(double));
    if (!m) return -1;
    double *q = m + I;
    for (int b = 0; b < B; b++)
        for (int i = 0; i < I; i++) m[i] += (double)x[(size_t)b * I + i];
    for (int i = 0; i < I; i++) m[i] = B > 0 ? m[i] / B : 0.0;
    for (int b = 0; b < B; b++)
        for (int i = 0; i < I; i++) {
            const double d = (double)x[(size_t)b * I + i] - m[i];
            q[i] += d * d;
        }
    for (int i = 0; i < I; i++) {
        mean[i] = (T)m[i];
        std[i] = (T)sqrt(q[i] / (B > 1 ? B - 1 : 1));
    }
    free(m);
    return 0;
}

/* pykan's regulariser for one layer and its gradient (train/objective.py `regularization`):
 *   v[i,o] = sqrt(var[i,o] + 1e-12) / (xstd[i] + 0.1)
 *   reg = l1 * sum v + le * (mean_o H_o(v[:,o] / (sum_i v[i,o] + 1))
 *                            + mean_i H_i(v[i,:] / (sum_o v[i,o] + 1)))
 * with H(p) = -sum p log2(p + 1e-4).  Writes reg, d reg / d var (I, O) and
 * d reg / d xstd (I). */
int SUF(kan_reg)(const T *var, const T *xstd, double l1, double le, double *reg, T *g_var,
                 T *g_xstd, int I, int O) {
    const size_t n = (size_t)I * O;
    double *buf = (double *)calloc(2 * n + 2 * (size_t)(I + O) + 2, sizeof(double));
    if (!buf) return -1;
    double *v = buf, *dv = buf + n, *rs = dv + n, *cs = rs + O, *rw = cs + I, *cw = rw + O;
    const double eps = 1e-4, ln2 = log(2.0);
    for (int i = 0; i < I; i++)
        for (int o = 0; o < O; o++) {
            const double e = sqrt((double)var[(size_t)i * O + o] + 1e-12);
            v[(size_t)i * O + o] = e / ((double)xstd[i] + 0.1);
            rs[o] += v[(size_t)i * O + o];
            cs[i] += v[(size_t)i * O + o];
        }
    double total = 0.0, ent_r = 0.0, ent_c = 0.0;
    /* f(p) = -p log2(p + eps), f'(p) = -(log2(p + eps) + p / ((p + eps) ln 2));
     * rw[o] = sum_i f'(p) v / (R_o + 1)^2 and cw[i] likewise, for the quotient rule */
    for (int i = 0; i < I; i++)
        for (int o = 0; o < O; o++) {
            const double x = v[(size_t)i * O + o];
            const double pr = x / (rs[o] + 1), pc = x / (cs[i] + 1);
            total += x;
            ent_r += -pr * log2(pr + eps);
            ent_c += -pc * log2(pc + eps);
            const double fr = -(log2(pr + eps) + pr / ((pr + eps) * ln2));
            const double fc = -(log2(pc + eps) + pc / ((pc + eps) * ln2));
            dv[(size_t)i * O + o] = le * (fr / (rs[o] + 1) / O + fc / (cs[i] + 1) / I) + l1;
            rw[o] += fr * x / ((rs[o] + 1) * (rs[o] + 1));
            cw[i] += fc * x / ((cs[i] + 1) * (cs[i] + 1));
        }
    *reg = l1 * total + le * (ent_r / (O > 0 ? O : 1) + ent_c / (I > 0 ? I : 1));
    for (int i = 0; i < I; i++) {
        double gx = 0.0;
        const double s = (double)xstd[i] + 0.1;
        for (int o = 0; o < O; o++) {
            const size_t e = (size_t)i * O + o;
            const double d = dv[e] - le * (rw[o] / O + cw[i] / I);
            const double stdv = v[e] * s;
            g_var[e] = (T)(d / (2.0 * stdv * s)); /* dv / dvar = 1 / (2 sqrt(var+eps) s) */
            gx += -d * v[e] / s;
        }
        g_xstd[i] = (T)gx;
    }
    free(buf);
    return 0;
}

#include "_objective.h"
#include "_block.h"

#undef T
