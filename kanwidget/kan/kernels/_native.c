/* Native kernels for the KAN layer (built by kernels/build.py, bound in layer.py, objective.py).
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
 * 3. fit's whole objective for a plain KAN on a flat parameter vector (kan_objective,
 *    _objective.h), with a block path for narrow layers and small grids (_block.h); the
 *    LBFGS driver that calls it is _lbfgs.c.
 *
 * This file has the shared, type-free code; _native_types.h (kernels) and the objective
 * headers are compiled once for float and once for double at the end of this file.
 * Plain C, no torch headers; parallel over the batch with OpenMP when nthreads > 1 (weight
 * gradients reduced from per-thread buffers).  Shapes (row-major, contiguous):
 *   x, base      (B, I)        T = float or double
 *   t            (I, M + 1)    double: extended knots, M = G + 2k intervals, increasing
 *   lut          (I, 2)        double: t[i][0] and M / (t[i][M] - t[i][0]) (uniform lookup)
 *   table        (I, M, F)     double, F = 2 + (k+1)^2: per interval [t_j, 1/h_j, C[p][r]],
 *                              the k + 1 non-zero basis functions as polynomials in
 *                              u = (x - t_j) / h_j (BasisTable.body in kan/spline.py)
 *   wb (I, O), ws (I, NB, O), NB = M - k basis functions, y (B, O), s1, s2 (I, O) double
 *   (sums of phi and phi^2, scratch), mean, var (I, O): per-edge mean and unbiased variance
 */

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

/* fit's objective for a plain KAN (SiLU bases, no multiplication nodes, fixed affine maps,
 * no symbolic edges, MSE) on a flat double parameter vector: see kan_objective_T.
 * Each layer's trainable tensors sit at an offset of the flat vector (torch's LBFGS order);
 * frozen ones (offset -1) are read from the model's tensor.  A layer's outputs go through
 * its fixed affine map out * out_scale + out_shift (the subnode and node maps combined;
 * NULL: the identity, the default). */
typedef struct {
    int I, O, M, k, uniform;
    const double *t, *lut, *table;  /* the layer's BasisTable (knots64, lut, body) */
    const void *mask;               /* (I, O) T */
    const void *coef, *sb, *ssp;    /* (I, O, NB), (I, O), (I, O) T: values when frozen */
    long long off_coef, off_sb, off_ssp;
    const double *out_scale, *out_shift; /* (O,) or NULL */
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

/* the per-type code, once for float and once for double: T is the element type, SUF(name)
 * appends _f32/_f64, KAN_F32 selects the float-only SIMD paths */
#define KAN_T float
#define KAN_F32 1
#define SUF(name) CAT(name, _f32)
#include "_native_types.h"
#undef KAN_T
#undef KAN_F32
#undef SUF

#define KAN_T double
#define KAN_F32 0
#define SUF(name) CAT(name, _f64)
#include "_native_types.h"
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
