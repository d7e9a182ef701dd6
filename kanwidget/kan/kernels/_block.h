/* Part of _native_types.h (per type), after _objective.h: the block path of kan_objective. */
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
 * when not applicable.  out: (I, F + 1, 16) floats, written only with fill. */
static const float *SUF(perm_tables)(const kan_layer_spec *S, float *out, int fill) {
#if (defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))) && KAN_F32
    const int M = S->M, F = 2 + (S->k + 1) * (S->k + 1);
    if (S->uniform || M > 16) return NULL;
    for (int i = 0; fill && i < S->I; i++) {
        float *pt = out + (size_t)i * (F + 1) * 16;
        const double *ti = S->t + (size_t)i * (M + 1), *tab = S->table + (size_t)i * M * F;
        for (int m = 0; m < 16; m++) {
            pt[m] = (float)ti[m < M ? m : M];
            for (int c = 0; c < F; c++) pt[(1 + c) * 16 + m] = (float)tab[(size_t)(m < M ? m : M - 1) * F + c];
        }
    }
    return out;
#else
    (void)S, (void)out, (void)fill;
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
                T v[KW] = {0}; /* lanes innermost: gcc does not vectorise the outer loop */
                for (int a = 0; a < NB; a++)
#pragma omp simd
                    for (int l = 0; l < KW; l++) v[l] += dBd[a * KW + l] * sx[a][l];
#pragma omp simd
                for (int l = 0; l < KW; l++) gxo[l] = v[l], gbo[l] = gb[l];
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
        /* the tables follow the knots, fixed for the problem: filled on the first call */
        perm[l] = SUF(perm_tables)(S, (float *)permT[l], P->cached != 1);
    }
    T *gh = TAKE(wide * Bp), *gx = TAKE(wide * Bp), *gb = TAKE(wide * Bp), *acc = TAKE(accn);
    T *out = gx; /* the last layer's output (O_L, Bp): consumed (into gh) before gx is written */
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
        if (S->out_scale) /* the fixed affine map, on the real points (the padding stays) */
            for (int o = 0; o < O; o++) {
                T *row = dst + (size_t)o * Bp;
                const double a = S->out_scale[o], c = S->out_shift[o];
                for (int b = 0; b < B; b++) row[b] = (T)((double)row[b] * a + c);
            }
        if (stats) {
            double reg = 0.0;
            const double denom = B > 1 ? (double)(B - 1) : 1.0;
            SUF(edge_moments)(s1[l], s2[l], mean[l], var[l], (size_t)I * O, B);
            for (int i = 0; i < I; i++) { /* column mean and std over the real points */
                const T *row = hT[l] + (size_t)i * Bp;
                double m = 0.0, q = 0.0;
#pragma omp simd reduction(+ : m)
                for (int b = 0; b < B; b++) m += (double)row[b];
                m = B > 0 ? m / B : 0.0;
#pragma omp simd reduction(+ : q)
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
#pragma omp simd reduction(+ : sq)
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
        if (S->out_scale) /* back through the fixed affine map */
            for (int o = 0; o < O; o++) {
                T *row = gh + (size_t)o * Bp;
                const T a = (T)S->out_scale[o];
#pragma omp simd
                for (int b = 0; b < Bp; b++) row[b] *= a;
            }
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
                const double xm = (double)xmean[l][i];
                const T *hr = hT[l] + r0, *sr = sig[l] + r0, *gxr = gx + r0, *gbr = gb + r0;
                T *out_g = gh + r0;
#pragma omp simd
                for (int b = 0; b < Bp; b++) {
                    const double h = (double)hr[b], sg = (double)sr[b];
                    const double g = (double)gxr[b] + (double)gbr[b] * sg * (1.0 + h * (1.0 - sg)) +
                                     (h - xm) * cf;
                    out_g[b] = b < B ? (T)g : (T)0;
                }
            }
        }
    }
    return mse + P->lamb * reg_total;
}
