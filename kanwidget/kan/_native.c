/* Native kernels for the KAN layer (built by kanwidget/kan/native.py, called via ctypes).
 *
 * 1. Dense basis (B, I, NB) in one pass, and the x-gradient from the basis gradient with
 *    the slopes recomputed (nothing saved): the BLAS path, for wide layers.
 * 2. Fused layer: y[b, o] = sum_i phi_io(x[b, i]),
 *      phi_io(x) = base[b, i] wb[i, o] + sum_a B_a(x) ws[i, a, o],
 *    walking each point's k + 1 non-zero basis values straight into the output, so the
 *    dense basis is never formed; optionally with the per-edge sums of phi and phi^2 over
 *    the batch (the activation std of the sparsity regulariser), accumulated in double.
 *    Its backward recomputes the basis.  For narrow layers (few outputs), where the dense
 *    basis is mostly memory traffic.
 *
 * Plain C, no torch headers; parallel over the batch with OpenMP when nthreads > 1 (weight
 * gradients reduced from per-thread buffers).  Shapes (row-major, contiguous):
 *   x, base      (B, I)        T = float or double
 *   t            (I, M + 1)    double: extended knots, M = G + 2k intervals, increasing
 *   lut          (I, 2)        double: t[i][0] and M / (t[i][M] - t[i][0]) (uniform lookup)
 *   table        (I, M, F)     double, F = 2 + (k+1)^2: per interval [t_j, 1/h_j, C[p][r]],
 *                              the k + 1 non-zero basis functions as polynomials in
 *                              u = (x - t_j) / h_j (BasisTable.body in spline.py)
 *   wb (I, O), ws (I, NB, O), NB = M - k basis functions, y (B, O), s1, s2 (I, O) double
 *   (sums of phi and phi^2, scratch), mean, var (I, O): per-edge mean and unbiased variance
 */
#ifndef KAN_T

#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif
#ifdef _OPENMP
#include <omp.h>
#define THREAD_ID() omp_get_thread_num()
#else
#define THREAD_ID() 0
#endif

#define KMAX 15

/* worker threads for a call: as asked with OpenMP, one without (the pragmas are ignored) */
static inline int threads_for(int n) {
#ifdef _OPENMP
    return n < 1 ? 1 : n;
#else
    (void)n;
    return 1;
#endif
}
#define INLINE static inline __attribute__((always_inline))

/* interval j with t[j] <= x < t[j + 1], or -1 outside [t[0], t[M]) (and for NaN) */
INLINE int find_interval(const double *t, const double *lut, int M, double x, int uniform) {
    if (!(x >= t[0] && x < t[M])) return -1;
    if (uniform) { /* x >= t[0], so truncation is floor; a rounding slip of one interval
                      only evaluates the neighbouring polynomial piece at its edge */
        int j = (int)((x - lut[0]) * lut[1]);
        return j > M - 1 ? M - 1 : j;
    }
    const double *p = t; /* branchless binary search: last knot <= x among t[0..M] */
    int n = M + 1;
    while (n > 1) {
        int half = n >> 1;
        p = (p[half] <= x) ? p + half : p;
        n -= half;
    }
    return (int)(p - t);
}

/* Horner on the polynomial pieces C[p][r] (row + 2) at local coordinate u: N[r] and, if dN
 * is not NULL, dN[r] = d/du * inv_h */
INLINE void cardinal(const double *row, int k, double u, double inv_h, double *N, double *dN) {
    const double *C = row + 2;
    for (int r = 0; r <= k; r++) {
        double v = C[k * (k + 1) + r], d = 0.0;
        for (int p = k - 1; p >= 0; p--) {
            d = d * u + v;
            v = v * u + C[p * (k + 1) + r];
        }
        N[r] = v;
        if (dN) dN[r] = d * inv_h;
    }
}

/* N[r] = B_{j-k+r}(x) from the table row [t_j, 1/h_j, C] of interval j; dN[r] = d/dx */
INLINE void basis_poly(const double *row, int k, double x, double *N, double *dN) {
    cardinal(row, k, (x - row[0]) * row[1], row[1], N, dN);
}

/* the same with k a compile-time constant for the usual orders, so the loops unroll */
INLINE void basis_at(const double *row, int k, double x, double *N, double *dN) {
    switch (k) {
    case 3: basis_poly(row, 3, x, N, dN); break;
    case 2: basis_poly(row, 2, x, N, dN); break;
    case 1: basis_poly(row, 1, x, N, dN); break;
    default: basis_poly(row, k, x, N, dN);
    }
}

/* locate x and evaluate its basis: uniform knots use one polynomial for every interval (the
 * cardinal B-spline pieces, from the table row of interior interval k of input 0), so no
 * per-interval row is read; returns j (or -1 outside the knot span) */
INLINE int locate_eval(const double *t, const double *lut, const double *table, int i, int M,
                       int k, double x, int uniform, double *N, double *dN) {
    const int F = 2 + (k + 1) * (k + 1);
    const double *ti = t + (size_t)i * (M + 1);
    if (!(x >= ti[0] && x < ti[M])) return -1;
    if (uniform) {
        const double *li = lut + 2 * i;
        const double pos = (x - li[0]) * li[1];
        int j = (int)pos;
        if (j > M - 1) j = M - 1;
        const double *card = table + (size_t)k * F;
        const double u = pos - j; /* in [0, 1); 1/h = li[1] scales the slopes */
        switch (k) {
        case 3: cardinal(card, 3, u, li[1], N, dN); break;
        case 2: cardinal(card, 2, u, li[1], N, dN); break;
        case 1: cardinal(card, 1, u, li[1], N, dN); break;
        default: cardinal(card, k, u, li[1], N, dN);
        }
        return j;
    }
    int j = find_interval(ti, lut + 2 * i, M, x, 0);
    basis_at(table + ((size_t)i * M + j) * F, k, x, N, dN);
    return j;
}

/* narrow layers: the output count as a compile-time constant, so the short loops unroll */
#define SWITCH_O(CALL)                                                                    \
    switch (O) {                                                                          \
    case 1: CALL(1); break;                                                               \
    case 2: CALL(2); break;                                                               \
    case 3: CALL(3); break;                                                               \
    case 4: CALL(4); break;                                                               \
    case 5: CALL(5); break;                                                               \
    case 6: CALL(6); break;                                                               \
    case 7: CALL(7); break;                                                               \
    case 8: CALL(8); break;                                                               \
    default: CALL(O);                                                                     \
    }

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)

/* Per-pair basis cache of the objective: interval j (B, I) and the k + 1 values and slopes
 * (B, I, k + 1), double.  mode 1: evaluate and store; mode 2: read (same numbers). */
typedef struct {
    int *j;
    double *N, *dN;
    int mode;
} basis_cache;

INLINE int cached_eval(const basis_cache *C, size_t bi, const double *t, const double *lut,
                       const double *table, int i, int M, int k, double x, int uniform,
                       double *N, double *dN) {
    const int K1 = k + 1;
    if (C && C->mode == 2) {
        const double *cn = C->N + bi * K1, *cd = C->dN + bi * K1;
        for (int r = 0; r < K1; r++) N[r] = cn[r];
        if (dN)
            for (int r = 0; r < K1; r++) dN[r] = cd[r];
        return C->j[bi];
    }
    double local[KMAX + 1];
    if (C && !dN) dN = local;
    const int j = locate_eval(t, lut, table, i, M, k, x, uniform, N, dN);
    if (C) {
        double *cn = C->N + bi * K1, *cd = C->dN + bi * K1;
        for (int r = 0; r < K1; r++) cn[r] = N[r], cd[r] = dN[r];
        C->j[bi] = j;
    }
    return j;
}

/* fit's objective for a plain KAN (SiLU bases, no multiplication nodes, identity affine
 * maps, no symbolic edges, MSE) on a flat double parameter vector: see kan_objective_T.
 * Each layer's trainable tensors sit at an offset of the flat vector (torch's LBFGS order);
 * frozen ones (offset -1) are read from the model's tensor. */
typedef struct {
    int I, O, M, k, uniform;
    const double *t, *lut, *table;  /* the layer's BasisTable (knots64, lut, body) */
    const void *mask;               /* (I, O) T */
    const void *coef, *sb, *ssp;    /* (I, O, NB), (I, O), (I, O) T: values when frozen */
    long long off_coef, off_sb, off_ssp;
} kan_layer_spec;

typedef struct {
    int n_layers, B, nthreads;
    const void *x, *y;       /* (B, I_0) inputs and (B, O_last) targets, T */
    double lamb, lamb_l1, lamb_entropy;
    const kan_layer_spec *layers;
    double mse, reg;         /* of the last evaluation */
    int status, evals;       /* first failing kernel code (0: none); evaluations so far */
    void *work;              /* scratch, allocated on first use, freed by kan_problem_free */
    int cached;              /* -1: no basis cache (too big); 1: layer 0's basis is cached */
    int block;               /* 1: use the block path (set by the caller, see kan_block_ok) */
} kan_problem;

#define KW 16             /* lanes of the objective's block path */
#define KAN_BLK_MAX_NB 32 /* its largest basis (G + k) */

/* largest per-pair basis cache of an objective (bytes); beyond it the basis is recomputed */
#define KAN_CACHE_LIMIT ((size_t)512 << 20)
#define KAN_CACHE_MAX_OUT 16 /* hidden layers up to this many outputs cache their basis */

/* an objective's failure: the code in status, NaN as the value */
static double kan_fail(kan_problem *P, int code) {
    P->status = code;
    return NAN;
}

void kan_problem_free(kan_problem *p) {
    free(p->work);
    p->work = NULL;
}

#define KAN_T float
#define KAN_F32 1
#define SUF(name) CAT(name, _f32)
#include __FILE__
#undef KAN_T
#undef KAN_F32
#undef SUF

#define KAN_T double
#define KAN_F32 0
#define SUF(name) CAT(name, _f64)
#include __FILE__
#undef KAN_T
#undef KAN_F32
#undef SUF

/* dense basis and slopes in double, for tests */
int kan_basis_f64(const double *x, const double *t, const double *lut, const double *table,
                  double *N_out, double *dN_out, int B, int I, int M, int k, int uniform) {
    if (k > KMAX || k < 0) return -2;
    const int NB = M - k;
    memset(N_out, 0, sizeof(double) * (size_t)B * I * NB);
    memset(dN_out, 0, sizeof(double) * (size_t)B * I * NB);
    for (int b = 0; b < B; b++)
        for (int i = 0; i < I; i++) {
            double xv = x[(size_t)b * I + i], N[KMAX + 1], dN[KMAX + 1];
            int j = locate_eval(t, lut, table, i, M, k, xv, uniform, N, dN);
            if (j < 0) continue;
            for (int r = 0; r <= k; r++) {
                int a = j - k + r;
                if (a < 0 || a >= NB) continue;
                N_out[((size_t)b * I + i) * NB + a] = N[r];
                dN_out[((size_t)b * I + i) * NB + a] = dN[r];
            }
        }
    return 0;
}

#else /* ------------------------------------------------------------ per-type kernels */

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

/* pykan's regulariser for one layer and its gradient (train.py `regularization`):
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

/* A layer's kernel weights from the flat parameters (frozen ones from the model):
 * wb = scale_base * mask (I, O), ws[i, a, o] = coef[i, o, a] * scale_sp * mask (I, NB, O). */
static void SUF(load_weights)(const kan_layer_spec *S, const double *theta, T *wb, T *ws) {
    const int I = S->I, O = S->O, NB = S->M - S->k;
    const T *mask = (const T *)S->mask, *coef = (const T *)S->coef;
    const T *sbf = (const T *)S->sb, *sspf = (const T *)S->ssp;
    for (int i = 0; i < I; i++)
        for (int o = 0; o < O; o++) {
            const size_t e = (size_t)i * O + o;
            const double m = (double)mask[e];
            const double sb = S->off_sb >= 0 ? theta[S->off_sb + e] : (double)sbf[e];
            const double sp = S->off_ssp >= 0 ? theta[S->off_ssp + e] : (double)sspf[e];
            wb[e] = (T)(sb * m);
            for (int a = 0; a < NB; a++) {
                const size_t c = e * NB + a;
                const double cf = S->off_coef >= 0 ? theta[S->off_coef + c] : (double)coef[c];
                ws[((size_t)i * NB + a) * O + o] = (T)(cf * sp * m);
            }
        }
}

/* The chain rule back through load_weights: the gradients of the trainable tensors of the
 * layer from those of wb and ws, into grad (at the tensors' offsets). */
static void SUF(store_grads)(const kan_layer_spec *S, const double *theta, const T *gwb,
                             const T *gws, double *grad) {
    const int I = S->I, O = S->O, NB = S->M - S->k;
    const T *mask = (const T *)S->mask, *coef = (const T *)S->coef;
    const T *sspf = (const T *)S->ssp;
    for (int i = 0; i < I; i++)
        for (int o = 0; o < O; o++) {
            const size_t e = (size_t)i * O + o;
            const double m = (double)mask[e];
            const double sp = S->off_ssp >= 0 ? theta[S->off_ssp + e] : (double)sspf[e];
            if (S->off_sb >= 0) grad[S->off_sb + e] = (double)gwb[e] * m;
            double gsp = 0.0;
            for (int a = 0; a < NB; a++) {
                const size_t c = e * NB + a;
                const double g = (double)gws[((size_t)i * NB + a) * O + o] * m;
                const double cf = S->off_coef >= 0 ? theta[S->off_coef + c] : (double)coef[c];
                if (S->off_coef >= 0) grad[S->off_coef + c] = g * sp;
                gsp += g * cf;
            }
            if (S->off_ssp >= 0) grad[S->off_ssp + e] = gsp;
        }
}

/* ---- the objective's block path: small grids, SIMD over the batch ----
 * Activations are kept transposed, (I, Bp) with the batch padded to a multiple of KW, and
 * each input is processed KW points at a time: the basis of a block is formed densely, NB
 * rows of KW lanes (zero off the point's k + 1 functions), so the products with the
 * weights are plain vector FMAs with no gathers or scatter-adds.  For NB <= KAN_BLK_MAX_NB,
 * where the dense rows cost less than indexing.  Padded lanes get zero upstream gradient
 * and a zero lane mask (stats), so they contribute nothing. */

/* dense basis Bd[a * KW + l] (and slopes dBd, if not NULL) of KW inputs xv of input i; the
 * loops run over the lanes innermost so they vectorise (k is a literal in the k = 3 copy) */
INLINE void SUF(blk_basis_k)(const kan_layer_spec *S, int i, const T *xv, T *Bd, T *dBd,
                             const float *perm, const int k) {
    (void)perm; /* used by the float AVX-512 copy only */
    const int M = S->M, K1 = k + 1, NB = M - k, F = 2 + K1 * K1;
    const double *ti = S->t + (size_t)i * (M + 1);
    T u[KW], sc[KW], fin[KW], rel[KW], N[KMAX + 1][KW], dN[KMAX + 1][KW];
    int jj[KW];
    if (S->uniform) {
        const T t0 = (T)S->lut[2 * i], inv = (T)S->lut[2 * i + 1], lo = (T)ti[0], hi = (T)ti[M];
        const double *C = S->table + (size_t)k * F + 2; /* cardinal pieces, any interval */
#pragma omp simd
        for (int l = 0; l < KW; l++) {
            const T x = xv[l], pos = (x - t0) * inv;
            const int ok = (x >= lo) & (x < hi);
            const T p = ok ? pos : (T)0;
            int j = (int)p;
            j = j > M - 1 ? M - 1 : j;
            jj[l] = j, u[l] = p - (T)j, sc[l] = inv, fin[l] = ok ? (T)1 : (T)0;
        }
        for (int r = 0; r <= k; r++) {
            const T top = (T)C[k * K1 + r];
#pragma omp simd
            for (int l = 0; l < KW; l++) {
                T v = top, d = 0;
                for (int p = k - 1; p >= 0; p--) {
                    d = d * u[l] + v;
                    v = v * u[l] + (T)C[p * K1 + r];
                }
                N[r][l] = v, dN[r][l] = d * sc[l];
            }
        }
    }
#if defined(__AVX512F__) && KAN_F32
    else if (perm) { /* adapted knots, M <= 16 intervals: the interval's polynomial pieces
                      * come from 16-lane tables by permutes instead of 16 loads each */
        const float *pt = perm + (size_t)i * (F + 1) * 16; /* rows: knots, then the F */
        const __m512 x = _mm512_loadu_ps((const float *)xv);
        const __mmask16 ok = _mm512_cmp_ps_mask(x, _mm512_set1_ps((float)ti[0]), _CMP_GE_OQ) &
                             _mm512_cmp_ps_mask(x, _mm512_set1_ps((float)ti[M]), _CMP_LT_OQ);
        __m512i j = _mm512_setzero_si512();
        const __m512i one = _mm512_set1_epi32(1);
        for (int m = 1; m < M; m++)
            j = _mm512_mask_add_epi32(j, _mm512_cmp_ps_mask(x, _mm512_set1_ps(pt[m]), _CMP_GE_OQ),
                                      j, one);
        j = _mm512_maskz_mov_epi32(ok, j);
        const __m512 t_j = _mm512_permutexvar_ps(j, _mm512_loadu_ps(pt + 16));
        const __m512 inv = _mm512_permutexvar_ps(j, _mm512_loadu_ps(pt + 32));
        const __m512 uu = _mm512_maskz_mov_ps(ok, _mm512_mul_ps(_mm512_sub_ps(x, t_j), inv));
        for (int r = 0; r <= k; r++) {
            __m512 v = _mm512_permutexvar_ps(j, _mm512_loadu_ps(pt + (3 + k * K1 + r) * 16));
            __m512 d = _mm512_setzero_ps();
            for (int p = k - 1; p >= 0; p--) {
                d = _mm512_fmadd_ps(d, uu, v);
                v = _mm512_fmadd_ps(v, uu, _mm512_permutexvar_ps(j, _mm512_loadu_ps(
                                                   pt + (3 + p * K1 + r) * 16)));
            }
            _mm512_storeu_ps((float *)N[r], v);
            _mm512_storeu_ps((float *)dN[r], _mm512_mul_ps(d, inv));
        }
        _mm512_storeu_si512((void *)jj, j);
        _mm512_storeu_ps((float *)fin, _mm512_maskz_mov_ps(ok, _mm512_set1_ps(1.0f)));
    }
#elif defined(__AVX2__) && defined(__FMA__) && KAN_F32
    else if (perm) { /* the same with 8-lane permutes: a 16-entry table is two halves, picked
                      * by bit 3 of the interval */
        const float *pt = perm + (size_t)i * (F + 1) * 16;
        const __m256i seven = _mm256_set1_epi32(7);
#define KAN_LOOKUP(row)                                                                   \
    _mm256_blendv_ps(_mm256_permutevar8x32_ps(_mm256_loadu_ps(pt + (row) * 16), j),       \
                     _mm256_permutevar8x32_ps(_mm256_loadu_ps(pt + (row) * 16 + 8), j), hi)
        for (int half = 0; half < KW; half += 8) {
            const __m256 x = _mm256_loadu_ps((const float *)xv + half);
            const __m256 ok = _mm256_and_ps(
                _mm256_cmp_ps(x, _mm256_set1_ps((float)ti[0]), _CMP_GE_OQ),
                _mm256_cmp_ps(x, _mm256_set1_ps((float)ti[M]), _CMP_LT_OQ));
            __m256i j = _mm256_setzero_si256();
            for (int m = 1; m < M; m++) /* a true compare is -1: subtracting it counts */
                j = _mm256_sub_epi32(j, _mm256_castps_si256(_mm256_cmp_ps(
                                            x, _mm256_set1_ps(pt[m]), _CMP_GE_OQ)));
            j = _mm256_and_si256(j, _mm256_castps_si256(ok));
            const __m256 hi = _mm256_castsi256_ps(_mm256_cmpgt_epi32(j, seven));
            const __m256 t_j = KAN_LOOKUP(1), inv = KAN_LOOKUP(2);
            const __m256 uu = _mm256_and_ps(ok, _mm256_mul_ps(_mm256_sub_ps(x, t_j), inv));
            for (int r = 0; r <= k; r++) {
                __m256 v = KAN_LOOKUP(3 + k * K1 + r), d = _mm256_setzero_ps();
                for (int p = k - 1; p >= 0; p--) {
                    d = _mm256_fmadd_ps(d, uu, v);
                    v = _mm256_fmadd_ps(v, uu, KAN_LOOKUP(3 + p * K1 + r));
                }
                _mm256_storeu_ps((float *)N[r] + half, v);
                _mm256_storeu_ps((float *)dN[r] + half, _mm256_mul_ps(d, inv));
            }
            _mm256_storeu_si256((__m256i *)(jj + half), j);
            _mm256_storeu_ps((float *)fin + half, _mm256_and_ps(ok, _mm256_set1_ps(1.0f)));
        }
#undef KAN_LOOKUP
    }
#endif
    else {
        const double *tab = S->table + (size_t)i * M * F;
        double xd[KW];
#pragma omp simd
        for (int l = 0; l < KW; l++) {
            xd[l] = (double)xv[l];
            const int ok = (xd[l] >= ti[0]) & (xd[l] < ti[M]);
            fin[l] = ok ? (T)1 : (T)0;
            xd[l] = ok ? xd[l] : ti[0];
            jj[l] = 0;
        }
        for (int m = 1; m < M; m++) {
            const double tm = ti[m];
#pragma omp simd
            for (int l = 0; l < KW; l++) jj[l] += xd[l] >= tm;
        }
        for (int l = 0; l < KW; l++) {
            const double *row = tab + (size_t)jj[l] * F;
            u[l] = (T)((xd[l] - row[0]) * row[1]), sc[l] = (T)row[1];
        }
        for (int r = 0; r <= k; r++)
            for (int l = 0; l < KW; l++) {
                const double *C = tab + (size_t)jj[l] * F + 2;
                T v = (T)C[k * K1 + r], d = 0;
                for (int p = k - 1; p >= 0; p--) {
                    d = d * u[l] + v;
                    v = v * u[l] + (T)C[p * K1 + r];
                }
                N[r][l] = v, dN[r][l] = d * sc[l];
            }
    }
    /* dense rows: basis a is N[q] for the q with j - k + q == a (if any), chosen by 0/1
     * factors on the interval as T (same-type selects vectorise; N is finite) */
#pragma omp simd
    for (int l = 0; l < KW; l++) rel[l] = (T)jj[l];
#if defined(__AVX512F__)
    /* masked selects: all k + 1 candidates per lane in one pass over the rows */
    for (int a = 0; a < NB; a++) {
        T *row = Bd + a * KW;
#pragma omp simd
        for (int l = 0; l < KW; l++) {
            const T r = (T)(a + k) - rel[l];
            T v = 0;
            for (int q = 0; q <= k; q++) v += (r == (T)q ? fin[l] : (T)0) * N[q][l];
            row[l] = v;
        }
        if (!dBd) continue;
        row = dBd + a * KW;
#pragma omp simd
        for (int l = 0; l < KW; l++) {
            const T r = (T)(a + k) - rel[l];
            T d = 0;
            for (int q = 0; q <= k; q++) d += (r == (T)q ? fin[l] : (T)0) * dN[q][l];
            row[l] = d;
        }
    }
#else
    /* without mask registers (AVX2, SSE) only plain loads in flat lane loops vectorise */
    for (int a = 0; a < NB; a++) {
        T *row = Bd + a * KW, *drow = dBd ? dBd + a * KW : NULL;
#pragma omp simd
        for (int l = 0; l < KW; l++) row[l] = 0;
        if (drow)
#pragma omp simd
            for (int l = 0; l < KW; l++) drow[l] = 0;
        for (int q = 0; q <= k; q++) {
            const int jq = a + k - q; /* the interval whose q-th function is basis a */
            if (jq < 0 || jq >= M) continue;
            const T *nq = N[q], *dq = dN[q];
#pragma omp simd
            for (int l = 0; l < KW; l++) row[l] += (rel[l] == (T)jq ? fin[l] : (T)0) * nq[l];
            if (drow)
#pragma omp simd
                for (int l = 0; l < KW; l++) drow[l] += (rel[l] == (T)jq ? fin[l] : (T)0) * dq[l];
        }
    }
#endif
}

static void SUF(blk_basis)(const kan_layer_spec *S, int i, const T *xv, T *Bd, T *dBd,
                           const float *perm) {
    if (S->k == 3) SUF(blk_basis_k)(S, i, xv, Bd, dBd, perm, 3);
    else SUF(blk_basis_k)(S, i, xv, Bd, dBd, perm, S->k);
}

/* the permute tables of blk_basis_k for adapted knots (float, AVX-512, M <= 16): per input
 * 1 + F rows of 16: the knots t_0..t_15, then each table column over the intervals; NULL
 * when not applicable.  out: (I, F + 1, 16) floats. */
static const float *SUF(perm_tables)(const kan_layer_spec *S, float *out) {
#if (defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))) && KAN_F32
    const int M = S->M, F = 2 + (S->k + 1) * (S->k + 1);
    if (S->uniform || M > 16) return NULL;
    for (int i = 0; i < S->I; i++) {
        float *pt = out + (size_t)i * (F + 1) * 16;
        const double *ti = S->t + (size_t)i * (M + 1), *tab = S->table + (size_t)i * M * F;
        for (int m = 0; m < 16; m++) {
            pt[m] = (float)ti[m < M ? m : M];
            for (int c = 0; c < F; c++) pt[(1 + c) * 16 + m] = (float)tab[(size_t)(m < M ? m : M - 1) * F + c];
        }
    }
    return out;
#else
    (void)S, (void)out;
    return NULL;
#endif
}

/* phi of edge (i, o) on one block: base * wb + the dense basis rows times the spline weights */
INLINE void SUF(blk_phi)(T *phi, const T *bv, const T *Bd, const T *wb, const T *ws, int i,
                         int o, int O, int NB) {
    const T w0 = wb[(size_t)i * O + o];
#pragma omp simd
    for (int l = 0; l < KW; l++) phi[l] = bv[l] * w0;
    for (int a = 0; a < NB; a++) {
        const T wa = ws[((size_t)i * NB + a) * O + o];
#pragma omp simd
        for (int l = 0; l < KW; l++) phi[l] += Bd[a * KW + l] * wa;
    }
}

/* one layer forward: yT (O, Bp) from hT, baseT (I, Bp); the dense basis of every block goes
 * to (or, with have_basis, comes from) BdC (I, nblk, NB, KW), and the slopes to dBdC if
 * not NULL; with s1 the masked double sums of phi and phi^2 per edge */
static void SUF(blk_forward)(const kan_layer_spec *S, int Bp, const T *hT, const T *baseT,
                             const T *wb, const T *ws, T *yT, T *BdC, T *dBdC, int have_basis,
                             const float *perm, const T *mask, double *s1, double *s2) {
    const int I = S->I, O = S->O, NB = S->M - S->k, nblk = Bp / KW;
    memset(yT, 0, sizeof(T) * (size_t)O * Bp);
    if (s1) {
        memset(s1, 0, sizeof(double) * (size_t)I * O);
        memset(s2, 0, sizeof(double) * (size_t)I * O);
    }
    for (int i = 0; i < I; i++)
        for (int blk = 0; blk < nblk; blk++) {
            const size_t off = (size_t)blk * KW, cb = ((size_t)i * nblk + blk) * NB * KW;
            T *Bd = BdC + cb, *dBd = dBdC ? dBdC + cb : NULL;
            if (!have_basis) SUF(blk_basis)(S, i, hT + (size_t)i * Bp + off, Bd, dBd, perm);
            const T *bv = baseT + (size_t)i * Bp + off, *mk = mask + off;
            for (int o = 0; o < O; o++) {
                T phi[KW];
                SUF(blk_phi)(phi, bv, Bd, wb, ws, i, o, O, NB);
                T *y = yT + (size_t)o * Bp + off;
#pragma omp simd
                for (int l = 0; l < KW; l++) y[l] += phi[l];
                if (s1) {
                    double d1 = 0, d2 = 0;
#pragma omp simd reduction(+ : d1, d2)
                    for (int l = 0; l < KW; l++) {
                        const double p = (double)phi[l] * (double)mk[l];
                        d1 += p, d2 += p * p;
                    }
                    s1[(size_t)i * O + o] += d1, s2[(size_t)i * O + o] += d2;
                }
            }
        }
}

/* one layer backward from ghT (O, Bp) (zero on padded lanes): gwb, gws and, if gxT is not
 * NULL, the gradient reaching the layer's input through the basis (gxT) and the base
 * branch (gbT), (I, Bp).  c, mean (I, O) or NULL: the stats share c (phi - mean).
 * acc: scratch (NB + 1) * O * KW. */
static void SUF(blk_backward)(const kan_layer_spec *S, int Bp, const T *baseT, const T *wb,
                              const T *ws, const T *ghT, const T *c, const T *mean, T *gxT,
                              T *gbT, T *gwb, T *gws, const T *BdC, const T *dBdC,
                              const T *mask, T *acc) {
    const int I = S->I, O = S->O, NB = S->M - S->k, nblk = Bp / KW;
    for (int i = 0; i < I; i++) {
        T *accB = acc, *accW = acc + (size_t)O * KW; /* accW[(a * O + o) * KW + l] */
        memset(acc, 0, sizeof(T) * (size_t)(NB + 1) * O * KW);
        for (int blk = 0; blk < nblk; blk++) {
            const size_t off = (size_t)blk * KW, cb = ((size_t)i * nblk + blk) * NB * KW;
            const T *Bd = BdC + cb, *bv = baseT + (size_t)i * Bp + off, *mk = mask + off;
            T sx[KAN_BLK_MAX_NB][KW], gb[KW];
            if (gxT) {
                memset(sx, 0, sizeof(T) * (size_t)NB * KW);
                memset(gb, 0, sizeof gb);
            }
            for (int o = 0; o < O; o++) {
                const size_t e = (size_t)i * O + o;
                const T w0 = wb[e];
                T g[KW];
                const T *gy = ghT + (size_t)o * Bp + off;
                if (c) { /* recompute phi for the variance's share */
                    T phi[KW];
                    SUF(blk_phi)(phi, bv, Bd, wb, ws, i, o, O, NB);
                    const T ce = c[e], me = mean[e];
#pragma omp simd
                    for (int l = 0; l < KW; l++) g[l] = gy[l] + mk[l] * ce * (phi[l] - me);
                } else {
#pragma omp simd
                    for (int l = 0; l < KW; l++) g[l] = gy[l];
                }
                T *ab = accB + (size_t)o * KW;
#pragma omp simd
                for (int l = 0; l < KW; l++) ab[l] += bv[l] * g[l];
                if (gxT) {
#pragma omp simd
                    for (int l = 0; l < KW; l++) gb[l] += g[l] * w0;
                }
                for (int a = 0; a < NB; a++) {
                    T *aw = accW + ((size_t)a * O + o) * KW;
#pragma omp simd
                    for (int l = 0; l < KW; l++) aw[l] += Bd[a * KW + l] * g[l];
                    if (gxT) {
                        const T wa = ws[((size_t)i * NB + a) * O + o];
#pragma omp simd
                        for (int l = 0; l < KW; l++) sx[a][l] += g[l] * wa;
                    }
                }
            }
            if (gxT) {
                const T *dBd = dBdC + cb;
                T *gxo = gxT + (size_t)i * Bp + off, *gbo = gbT + (size_t)i * Bp + off;
#pragma omp simd
                for (int l = 0; l < KW; l++) {
                    T v = 0;
                    for (int a = 0; a < NB; a++) v += dBd[a * KW + l] * sx[a][l];
                    gxo[l] = v, gbo[l] = gb[l];
                }
            }
        }
        for (int o = 0; o < O; o++) {
            T sb = 0;
            for (int l = 0; l < KW; l++) sb += accB[(size_t)o * KW + l];
            gwb[(size_t)i * O + o] = sb;
            for (int a = 0; a < NB; a++) {
                T sw = 0;
                for (int l = 0; l < KW; l++) sw += accW[((size_t)a * O + o) * KW + l];
                gws[((size_t)i * NB + a) * O + o] = sw;
            }
        }
    }
}

/* The block path of kan_objective (see there); P->cached == 1 once the data's transposed
 * copies and basis are in the scratch. */
static double SUF(blk_objective)(kan_problem *P, const double *theta, double *grad) {
    const int L = P->n_layers, B = P->B, stats = P->lamb > 0;
    const int Bp = (B + KW - 1) / KW * KW;
    const int OL = P->layers[L - 1].O, I0 = P->layers[0].I;
    size_t nd = 0, nt = (size_t)Bp + (size_t)OL * Bp, wide = 1, accn = 1;
    for (int l = 0; l < L; l++) {
        const kan_layer_spec *S = P->layers + l;
        const size_t io = (size_t)S->I * S->O, nb = (size_t)(S->M - S->k);
        const size_t basis = (size_t)S->I * nb * Bp;
        nd += 2 * io;
        nt += 3 * (size_t)S->I * Bp + 5 * io + 2 * io * nb + 3 * (size_t)S->I + basis;
        if (l > 0) nt += basis;
        nt += (size_t)S->I * (3 + (size_t)(S->k + 1) * (S->k + 1)) * 16; /* perm tables */
        if ((size_t)S->I > wide) wide = (size_t)S->I;
        if ((size_t)S->O > wide) wide = (size_t)S->O;
        if ((nb + 1) * S->O * KW > accn) accn = (nb + 1) * S->O * KW;
    }
    nt += 3 * wide * Bp + accn;
    if (!P->work && !(P->work = calloc(nd * sizeof(double) + nt * sizeof(T), 1))) {
        return kan_fail(P, -1);
    }
    double *dcur = (double *)P->work;
    T *cur = (T *)(dcur + nd);
#define TAKE(n) (cur += (n), cur - (n))
    T *hT[L + 1], *sig[L], *baseT[L], *wb[L], *ws[L], *gwb[L], *gws[L], *mean[L], *var[L];
    T *g_var[L], *xmean[L], *xstd[L], *g_xstd[L], *BdC[L], *dBdC[L], *permT[L];
    const float *perm[L];
    double *s1[L], *s2[L];
    T *mask = TAKE(Bp), *yT = TAKE((size_t)OL * Bp);
    for (int l = 0; l < L; l++) {
        const kan_layer_spec *S = P->layers + l;
        const size_t io = (size_t)S->I * S->O, nb = (size_t)(S->M - S->k);
        s1[l] = dcur, s2[l] = dcur + io;
        dcur += 2 * io;
        hT[l] = TAKE((size_t)S->I * Bp), sig[l] = TAKE((size_t)S->I * Bp);
        baseT[l] = TAKE((size_t)S->I * Bp);
        wb[l] = TAKE(io), gwb[l] = TAKE(io);
        mean[l] = TAKE(io), var[l] = TAKE(io), g_var[l] = TAKE(io);
        ws[l] = TAKE(io * nb), gws[l] = TAKE(io * nb);
        xmean[l] = TAKE(S->I), xstd[l] = TAKE(S->I), g_xstd[l] = TAKE(S->I);
        BdC[l] = TAKE((size_t)S->I * nb * Bp);
        dBdC[l] = l > 0 ? TAKE((size_t)S->I * nb * Bp) : NULL;
        permT[l] = TAKE((size_t)S->I * (3 + (size_t)(S->k + 1) * (S->k + 1)) * 16);
        perm[l] = SUF(perm_tables)(S, (float *)permT[l]); /* cheap: redone each call */
    }
    T *out = NULL; /* the last layer's output (O_L, Bp) */
    T *gh = TAKE(wide * Bp), *gx = TAKE(wide * Bp), *gb = TAKE(wide * Bp), *acc = TAKE(accn);
    out = gx; /* reused: the output is consumed (into gh) before gx is written */
#undef TAKE
    const int fresh = P->cached != 1;
    if (fresh) { /* transposed data (zero-padded), targets, lane mask, layer 0's silu */
        const T *x = (const T *)P->x, *y = (const T *)P->y;
        for (int b = 0; b < Bp; b++) mask[b] = b < B ? (T)1 : (T)0;
        for (int i = 0; i < I0; i++)
            for (int b = 0; b < Bp; b++) hT[0][(size_t)i * Bp + b] = b < B ? x[(size_t)b * I0 + i] : 0;
        for (int o = 0; o < OL; o++)
            for (int b = 0; b < B; b++) yT[(size_t)o * Bp + b] = y[(size_t)b * OL + o];
    }
    double reg_total = 0.0;
    int code = 0;
    for (int l = 0; l < L && !code; l++) {
        const kan_layer_spec *S = P->layers + l;
        const int I = S->I, O = S->O;
        const size_t n = (size_t)I * Bp;
        if (l > 0 || fresh)
            for (size_t e = 0; e < n; e++) {
                const double v = (double)hT[l][e], sg = 1.0 / (1.0 + exp(-v));
                sig[l][e] = (T)sg, baseT[l][e] = (T)(v * sg);
            }
        SUF(load_weights)(S, theta, wb[l], ws[l]);
        T *dst = l + 1 < L ? hT[l + 1] : out;
        SUF(blk_forward)(S, Bp, hT[l], baseT[l], wb[l], ws[l], dst, BdC[l], dBdC[l],
                         l == 0 && !fresh, perm[l], mask, stats ? s1[l] : NULL, s2[l]);
        if (stats) {
            double reg = 0.0;
            const double denom = B > 1 ? (double)(B - 1) : 1.0;
            SUF(edge_moments)(s1[l], s2[l], mean[l], var[l], (size_t)I * O, B);
            for (int i = 0; i < I; i++) { /* column mean and std over the real points */
                const T *row = hT[l] + (size_t)i * Bp;
                double m = 0.0, q = 0.0;
                for (int b = 0; b < B; b++) m += (double)row[b];
                m = B > 0 ? m / B : 0.0;
                for (int b = 0; b < B; b++) q += ((double)row[b] - m) * ((double)row[b] - m);
                xmean[l][i] = (T)m, xstd[l][i] = (T)sqrt(q / denom);
            }
            code = SUF(kan_reg)(var[l], xstd[l], P->lamb_l1, P->lamb_entropy, &reg, g_var[l],
                                g_xstd[l], I, O);
            reg_total += reg;
        }
    }
    if (code) return kan_fail(P, code);
    P->cached = 1;
    double sq = 0.0;
    const double ny = (double)B * OL;
    for (int o = 0; o < OL; o++)
        for (int b = 0; b < Bp; b++) {
            const size_t e = (size_t)o * Bp + b;
            const double d = b < B ? (double)out[e] - (double)yT[e] : 0.0;
            sq += d * d;
            gh[e] = (T)(d * (2.0 / ny));
        }
    const double mse = ny > 0 ? sq / ny : 0.0;
    P->mse = mse, P->reg = reg_total, P->evals++;
    for (int l = grad ? L - 1 : -1; l >= 0 && !code; l--) {
        const kan_layer_spec *S = P->layers + l;
        const int I = S->I, O = S->O;
        T *c = stats ? SUF(variance_share)(g_var[l], (size_t)I * O, P->lamb, B) : NULL;
        const int need_x = l > 0;
        SUF(blk_backward)(S, Bp, baseT[l], wb[l], ws[l], gh, c, mean[l], need_x ? gx : NULL,
                          gb, gwb[l], gws[l], BdC[l], dBdC[l], mask, acc);
        SUF(store_grads)(S, theta, gwb[l], gws[l], grad);
        if (need_x) { /* through silu, plus the input std's share (real points only) */
            const double denom = B > 1 ? (double)(B - 1) : 1.0;
            for (int i = 0; i < I; i++) {
                const double cf = stats && xstd[l][i] > 0
                                      ? (double)g_xstd[l][i] * P->lamb / (denom * (double)xstd[l][i])
                                      : 0.0;
                const size_t r0 = (size_t)i * Bp;
                for (int b = 0; b < Bp; b++) {
                    const double h = (double)hT[l][r0 + b], sg = (double)sig[l][r0 + b];
                    double g = (double)gx[r0 + b] + (double)gb[r0 + b] * sg * (1.0 + h * (1.0 - sg));
                    if (b < B) g += (h - (double)xmean[l][i]) * cf;
                    else g = 0.0;
                    gh[r0 + b] = (T)g;
                }
            }
        }
    }
    return mse + P->lamb * reg_total;
}

/* The objective mse + lamb * reg of a kan_problem at the flat parameters theta, and its
 * gradient (written to grad, same layout); the same numbers as train.fit's per-op graph
 * and KANObjective (native.py), without Python in between; grad NULL: the value only.
 * Returns NaN on failure (status then holds the failing kernel's code). */
double SUF(kan_objective)(void *ctx, const double *theta, double *grad) {
    kan_problem *P = (kan_problem *)ctx;
    if (P->block == 1) return SUF(blk_objective)(P, theta, grad);
    const int L = P->n_layers, B = P->B, stats = P->lamb > 0;
    /* scratch: per layer s1, s2 (I, O) double; then in T: the layer's input h (B, I) (layer
     * 0: the data), base (B, I), wb, gwb, mean, var, g_var (I, O), ws, gws (I, NB, O),
     * xmean, xstd, g_xstd (I); the last output and three gradient buffers (B, widest) */
    size_t nd = 0, nt = 0, wide = 1, nc = 0;
    for (int l = 0; l < L; l++) { /* the basis cache: per pair k + 1 values and slopes, j */
        const size_t pairs = (size_t)B * P->layers[l].I;
        nc += 2 * pairs * (size_t)(P->layers[l].k + 1) + (pairs + 1) / 2;
    }
    if (nc * sizeof(double) > KAN_CACHE_LIMIT) P->cached = -1;
    for (int l = 0; l < L; l++) {
        const kan_layer_spec *S = P->layers + l;
        const size_t io = (size_t)S->I * S->O, nb = (size_t)(S->M - S->k);
        nd += 2 * io;
        nt += 2 * (size_t)B * S->I + 5 * io + 2 * io * nb + 3 * (size_t)S->I;
        if ((size_t)S->I > wide) wide = (size_t)S->I;
        if ((size_t)S->O > wide) wide = (size_t)S->O;
    }
    nt += 4 * (size_t)B * wide;
    if (P->cached >= 0) nd += nc;
    if (!P->work && !(P->work = malloc(nd * sizeof(double) + nt * sizeof(T)))) {
        return kan_fail(P, -1);
    }
    double *dcur = (double *)P->work;
    T *cur = (T *)(dcur + nd);
#define TAKE(n) (cur += (n), cur - (n))
    T *h[L + 1], *base[L], *wb[L], *ws[L], *gwb[L], *gws[L], *mean[L], *var[L], *g_var[L];
    T *xmean[L], *xstd[L], *g_xstd[L];
    double *s1[L], *s2[L];
    basis_cache cache[L];
    for (int l = 0; l < L; l++) {
        const kan_layer_spec *S = P->layers + l;
        const size_t io = (size_t)S->I * S->O, nb = (size_t)(S->M - S->k);
        s1[l] = dcur, s2[l] = dcur + io;
        dcur += 2 * io;
        if (P->cached >= 0) {
            const size_t pairs = (size_t)B * S->I, nk = pairs * (size_t)(S->k + 1);
            cache[l].N = dcur, cache[l].dN = dcur + nk, cache[l].j = (int *)(dcur + 2 * nk);
            dcur += 2 * nk + (pairs + 1) / 2;
        }
        h[l] = TAKE((size_t)B * S->I);
        if (l == 0) h[0] = (T *)P->x;
        base[l] = TAKE((size_t)B * S->I);
        wb[l] = TAKE(io), gwb[l] = TAKE(io);
        mean[l] = TAKE(io), var[l] = TAKE(io), g_var[l] = TAKE(io);
        ws[l] = TAKE(io * nb), gws[l] = TAKE(io * nb);
        xmean[l] = TAKE(S->I), xstd[l] = TAKE(S->I), g_xstd[l] = TAKE(S->I);
    }
    h[L] = TAKE((size_t)B * wide);
    T *gh = TAKE((size_t)B * wide), *gx = TAKE((size_t)B * wide), *gb = TAKE((size_t)B * wide);
#undef TAKE
    /* forward */
    double reg_total = 0.0;
    int code = 0;
    for (int l = 0; l < L && !code; l++) {
        const kan_layer_spec *S = P->layers + l;
        const int I = S->I, O = S->O;
        /* the data (layer 0's input) is fixed: its basis and silu are computed once; hidden
         * layers keep their basis for the backward only when narrow (for wide ones the
         * per-pair work is in the outputs, and the cache's traffic costs more than it saves) */
        const int fixed = l == 0 && P->cached == 1;
        const int use_c = P->cached >= 0 && (l == 0 || O <= KAN_CACHE_MAX_OUT);
        if (use_c) cache[l].mode = fixed ? 2 : 1;
        if (!fixed)
            for (size_t e = 0; e < (size_t)B * I; e++) {
                const double v = (double)h[l][e];
                base[l][e] = (T)(v / (1.0 + exp(-v)));
            }
        SUF(load_weights)(S, theta, wb[l], ws[l]);
        code = SUF(layer_forward)(h[l], base[l], S->t, S->lut, S->table, wb[l], ws[l],
                                  h[l + 1], stats ? s1[l] : NULL, s2[l], mean[l], var[l], B, I,
                                  O, S->M, S->k, S->uniform, P->nthreads,
                                  use_c ? cache + l : NULL);
        if (use_c) cache[l].mode = 2; /* the backward reads what was stored */
        if (!code && stats) {
            double reg = 0.0;
            code = SUF(kan_colstats)(h[l], xmean[l], xstd[l], B, I);
            if (!code)
                code = SUF(kan_reg)(var[l], xstd[l], P->lamb_l1, P->lamb_entropy, &reg, g_var[l],
                                    g_xstd[l], I, O);
            reg_total += reg;
        }
    }
    if (code) return kan_fail(P, code);
    if (P->cached == 0) P->cached = 1;
    /* the last layer wrote into h[L]; MSE against y */
    const int OL = P->layers[L - 1].O;
    const size_t ny = (size_t)B * OL;
    const T *y = (const T *)P->y;
    double sq = 0.0;
    for (size_t e = 0; e < ny; e++) {
        const double d = (double)h[L][e] - (double)y[e];
        sq += d * d;
        gh[e] = (T)(d * (2.0 / (double)ny));
    }
    const double mse = ny ? sq / (double)ny : 0.0;
    P->mse = mse, P->reg = reg_total, P->evals++;
    /* backward (not without grad: a value only) */
    for (int l = grad ? L - 1 : -1; l >= 0 && !code; l--) {
        const kan_layer_spec *S = P->layers + l;
        const int I = S->I, O = S->O;
        const size_t io = (size_t)I * O;
        T *c = stats ? SUF(variance_share)(g_var[l], io, P->lamb, B) : NULL;
        const int need_x = l > 0;
        code = SUF(layer_backward)(h[l], base[l], S->t, S->lut, S->table, wb[l], ws[l], gh, c,
                                   stats ? mean[l] : NULL, need_x ? gx : NULL,
                                   need_x ? gb : NULL, gwb[l], gws[l], B, I, O, S->M, S->k,
                                   S->uniform, P->nthreads,
                                   P->cached >= 0 && (l == 0 || O <= KAN_CACHE_MAX_OUT) ? cache + l
                                                                                        : NULL);
        if (code) break;
        SUF(store_grads)(S, theta, gwb[l], gws[l], grad);
        if (need_x) { /* gbase through silu, plus the input std's share */
            code = SUF(kan_hidden_grad)(h[l], gx, gb, xmean[l], xstd[l],
                                        stats ? g_xstd[l] : NULL, P->lamb, B, I);
            T *tmp = gh;
            gh = gx, gx = tmp;
        }
    }
    if (code) return kan_fail(P, code);
    return mse + P->lamb * reg_total;
}

#undef T
#endif
