/* Part of _native_types.h (per type): fit's objective for a kan_problem, the flat parameters
 * <-> kernel weights, the sparse (per-pair) path, and kan_objective, which picks it or the
 * block path (_block.h). */

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

static double SUF(blk_objective)(kan_problem *P, const double *theta, double *grad);

/* A layer's fixed affine map on its outputs h (B, O), in place: h * out_scale + out_shift. */
static void SUF(affine_rows)(const kan_layer_spec *S, T *h, int B) {
    const int O = S->O;
    for (int b = 0; b < B; b++)
        for (int o = 0; o < O; o++) {
            const size_t e = (size_t)b * O + o;
            h[e] = (T)((double)h[e] * S->out_scale[o] + S->out_shift[o]);
        }
}

/* The objective mse + lamb * reg of a kan_problem at the flat parameters theta, and its
 * gradient (written to grad, same layout); the same numbers as train.fit's per-op graph
 * and KANObjective (objective.py), without Python in between; grad NULL: the value only.
 * Returns NaN on failure (status then holds the failing kernel's code). */
double SUF(kan_objective)(void *ctx, const double *theta, double *grad) {
    kan_problem *P = (kan_problem *)ctx;
    if (P->block == 1) { /* the caller's choice, within the block path's fixed-size arrays */
        int fits = 1;
        for (int l = 0; l < P->n_layers; l++) {
            const kan_layer_spec *S = P->layers + l;
            fits &= S->k >= 0 && S->k <= KMAX && S->M - S->k <= KAN_BLK_MAX_NB;
        }
        P->block = fits ? 1 : 0;
    }
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
    basis_cache cache[L], *use[L]; /* use[l]: layer l's cache, or NULL where it has none */
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
        use[l] = P->cached >= 0 && (l == 0 || O <= KAN_CACHE_MAX_OUT) ? cache + l : NULL;
        if (use[l]) use[l]->mode = fixed ? 2 : 1;
        if (!fixed)
            for (size_t e = 0; e < (size_t)B * I; e++) {
                const double v = (double)h[l][e];
                base[l][e] = (T)(v / (1.0 + exp(-v)));
            }
        SUF(load_weights)(S, theta, wb[l], ws[l]);
        code = SUF(layer_forward)(h[l], base[l], S->t, S->lut, S->table, wb[l], ws[l],
                                  h[l + 1], stats ? s1[l] : NULL, s2[l], mean[l], var[l], B, I,
                                  O, S->M, S->k, S->uniform, P->nthreads,
                                  use[l]);
        if (use[l]) use[l]->mode = 2; /* the backward reads what was stored */
        if (!code && S->out_scale) SUF(affine_rows)(S, h[l + 1], B);
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
        if (S->out_scale) /* back through the fixed affine map: scale each output's gradient */
            for (int b = 0; b < B; b++)
                for (int o = 0; o < O; o++) gh[(size_t)b * O + o] *= (T)S->out_scale[o];
        code = SUF(layer_backward)(h[l], base[l], S->t, S->lut, S->table, wb[l], ws[l], gh, c,
                                   stats ? mean[l] : NULL, need_x ? gx : NULL,
                                   need_x ? gb : NULL, gwb[l], gws[l], B, I, O, S->M, S->k,
                                   S->uniform, P->nthreads, use[l]);
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
