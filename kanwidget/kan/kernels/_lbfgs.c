/* L-BFGS with a strong-Wolfe line search, step for step the algorithm of torch.optim.LBFGS
 * (torch 2.x, line_search_fn="strong_wolfe"), on a flat double vector and a C objective.
 *
 * kan_lbfgs_step does what one LBFGS.step(closure) does: up to max_iter iterations and
 * max_eval evaluations, with the state (direction, step, curvature pairs, previous gradient
 * and loss) kept in a kan_lbfgs between calls.  The arithmetic is double throughout (torch
 * does it in the parameters' dtype).  With fit's objective in C (kan_objective_* in
 * _native.c) a whole step runs without returning to Python; tests drive it with a Python
 * objective through a ctypes callback and compare iterates with torch's.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* f(ctx, x, g): the objective at x, its gradient written to g; NaN signals a failure */
typedef double (*kan_objfn)(void *ctx, const double *x, double *g);

typedef struct {
    /* settings (torch's param_group) */
    int n, history, max_iter, max_eval;
    double lr, tol_grad, tol_change, tol_ys; /* tol_ys: torch 1e-10, pykan 1e-32 */
    /* state (torch's state dict); zero-initialised before the first step */
    int n_iter, func_evals;
    int n_old, head;     /* stored curvature pairs; ring index of the oldest */
    double t, H_diag;
    double *d, *prev_g;  /* (n) */
    double *dirs, *stps; /* (history, n) ring buffers of y and s */
    double *ro, *al;     /* (history) */
} kan_lbfgs;

static double dot(const double *a, const double *b, int n) {
    double s = 0.0;
    for (int i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

static double absmax(const double *a, int n) {
    double m = 0.0;
    for (int i = 0; i < n; i++) {
        const double v = fabs(a[i]);
        if (v > m || v != v) m = v; /* NaN propagates like torch's max */
    }
    return m;
}

/* torch's _cubic_interpolate; the bounds' midpoint (bisection) where an input or the
 * minimiser is not finite (kan/train/line_search.py: a non-finite trial is "too far") */
static double cubic_interpolate(double x1, double f1, double g1, double x2, double f2,
                                double g2, const double *bounds) {
    double lo, hi;
    if (bounds) lo = bounds[0], hi = bounds[1];
    else if (x1 <= x2) lo = x1, hi = x2;
    else lo = x2, hi = x1;
    if (!isfinite(f1) || !isfinite(g1) || !isfinite(f2) || !isfinite(g2)) return (lo + hi) / 2.0;
    const double d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2);
    const double d2_square = d1 * d1 - g1 * g2;
    if (d2_square >= 0) {
        const double d2 = sqrt(d2_square);
        double min_pos;
        if (x1 <= x2) min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2));
        else min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
        if (!isfinite(min_pos)) return (lo + hi) / 2.0;
        /* torch: min(max(min_pos, lo), hi) with Python's min/max (NaN-unaware) */
        double v = min_pos;
        if (lo > v) v = lo; /* max(min_pos, lo): returns min_pos unless lo > min_pos */
        if (hi < v) v = hi; /* min(v, hi): returns v unless hi < v */
        return v;
    }
    return (lo + hi) / 2.0;
}

typedef struct {
    kan_objfn f;
    void *ctx;
    const double *x, *d;
    double *xt;
    int n;
} direction;

/* the objective at x + t d (torch's _directional_evaluate) and its slope along d; a
 * non-finite trial reads as loss and slope +inf (too far: it bounds the bracket) */
static double eval_at(direction *D, double t, double *g, double *gtd) {
    for (int i = 0; i < D->n; i++) D->xt[i] = D->x[i] + t * D->d[i];
    double f = D->f(D->ctx, D->xt, g);
    *gtd = dot(g, D->d, D->n);
    if (!isfinite(f) || !isfinite(*gtd)) f = INFINITY, *gtd = INFINITY;
    return f;
}

/* torch's _strong_wolfe (c1 1e-4, c2 0.9, tolerance_change 1e-9).  On entry g is the
 * gradient at x; on return f_out/g_out hold the accepted point's loss and gradient and
 * *t the step.  w: 4 n scratch.  Returns the number of evaluations. */
static int strong_wolfe(direction *D, double *t_io, double f, const double *g, double gtd,
                        int max_ls, double *f_out, double *g_out, double *w) {
    const int n = D->n;
    const double c1 = 1e-4, c2 = 0.9, tolerance_change = 1e-9;
    double *g_new = w, *g_prev = w + n, *bg0 = w + 2 * n, *bg1 = w + 3 * n;
    double *bg[2] = {bg0, bg1};
    double t = *t_io;
    const double d_norm = absmax(D->d, n);
    double gtd_new;
    double f_new = eval_at(D, t, g_new, &gtd_new);
    int evals = 1;
    double t_prev = 0, f_prev = f, gtd_prev = gtd;
    memcpy(g_prev, g, sizeof(double) * n);
    int done = 0, ls_iter = 0, nb = 0; /* nb: bracket entries */
    double br[2] = {0, 0}, bf[2] = {0, 0}, bgtd[2] = {0, 0};
    while (ls_iter < max_ls) {
        const int over = f_new > (f + c1 * t * gtd) || (ls_iter > 1 && f_new >= f_prev);
        if (!over && fabs(gtd_new) <= -c2 * gtd) { /* strong Wolfe holds at t */
            br[0] = t, bf[0] = f_new;
            memcpy(bg[0], g_new, sizeof(double) * n);
            nb = 1, done = 1;
            break;
        }
        if (over || gtd_new >= 0) { /* a minimum lies in [t_prev, t] */
            br[0] = t_prev, br[1] = t, bf[0] = f_prev, bf[1] = f_new;
            bgtd[0] = gtd_prev, bgtd[1] = gtd_new;
            memcpy(bg[0], g_prev, sizeof(double) * n);
            memcpy(bg[1], g_new, sizeof(double) * n);
            nb = 2;
            break;
        }
        const double bounds[2] = {t + 0.01 * (t - t_prev), t * 10};
        const double tmp = t;
        t = cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds);
        t_prev = tmp, f_prev = f_new, gtd_prev = gtd_new;
        memcpy(g_prev, g_new, sizeof(double) * n);
        f_new = eval_at(D, t, g_new, &gtd_new);
        evals++;
        ls_iter++;
    }
    if (ls_iter == max_ls) { /* torch leaves bracket_gtd as it was; the zoom does not run */
        br[0] = 0, br[1] = t, bf[0] = f, bf[1] = f_new;
        memcpy(bg[0], g, sizeof(double) * n);
        memcpy(bg[1], g_new, sizeof(double) * n);
        nb = 2;
    }
    int insuf_progress = 0;
    int low = bf[0] <= bf[nb - 1] ? 0 : 1, high = 1 - low;
    while (!done && ls_iter < max_ls) {
        if (fabs(br[1] - br[0]) * d_norm < tolerance_change) break;
        t = cubic_interpolate(br[0], bf[0], bgtd[0], br[1], bf[1], bgtd[1], NULL);
        const double bmax = br[0] > br[1] ? br[0] : br[1], bmin = br[0] < br[1] ? br[0] : br[1];
        const double eps = 0.1 * (bmax - bmin);
        if (fmin(bmax - t, t - bmin) < eps) {
            if (insuf_progress || t >= bmax || t <= bmin) {
                t = fabs(t - bmax) < fabs(t - bmin) ? bmax - eps : bmin + eps;
                insuf_progress = 0;
            } else {
                insuf_progress = 1;
            }
        } else {
            insuf_progress = 0;
        }
        f_new = eval_at(D, t, g_new, &gtd_new);
        evals++;
        ls_iter++;
        if (f_new > (f + c1 * t * gtd) || f_new >= bf[low]) {
            br[high] = t, bf[high] = f_new, bgtd[high] = gtd_new;
            memcpy(bg[high], g_new, sizeof(double) * n);
            low = bf[0] <= bf[1] ? 0 : 1, high = 1 - low;
        } else {
            if (fabs(gtd_new) <= -c2 * gtd) {
                done = 1;
            } else if (gtd_new * (br[high] - br[low]) >= 0) {
                br[high] = br[low], bf[high] = bf[low], bgtd[high] = bgtd[low];
                memcpy(bg[high], bg[low], sizeof(double) * n);
            }
            br[low] = t, bf[low] = f_new, bgtd[low] = gtd_new;
            memcpy(bg[low], g_new, sizeof(double) * n);
        }
    }
    *t_io = br[low];
    *f_out = bf[low];
    memcpy(g_out, bg[low], sizeof(double) * n);
    return evals;
}

/* One LBFGS.step(closure) on x (n, updated in place).  orig_loss: the loss at the entry
 * point (what torch's step returns).  Returns 0, -1 if out of memory. */
int kan_lbfgs_step(kan_lbfgs *S, kan_objfn f, void *ctx, double *x, double *orig_loss) {
    const int n = S->n, H = S->history;
    double *buf = (double *)malloc(sizeof(double) * (size_t)n * 7);
    if (!buf) return -1;
    double *g = buf, *q = buf + n, *xt = buf + 2 * n, *w = buf + 3 * n; /* w: 4 n */
    double loss = f(ctx, x, g);
    *orig_loss = loss;
    int current_evals = 1;
    S->func_evals++;
    if (absmax(g, n) <= S->tol_grad) {
        free(buf);
        return 0;
    }
    direction D = {f, ctx, x, S->d, xt, n};
    int n_iter = 0;
    while (n_iter < S->max_iter) {
        n_iter++;
        S->n_iter++;
        if (S->n_iter == 1) {
            for (int i = 0; i < n; i++) S->d[i] = -g[i];
            S->n_old = 0, S->head = 0, S->H_diag = 1;
        } else {
            /* y = g - prev_g, s = d t, kept when y.s > tol_ys (dropping the oldest) */
            double *y = q, ys = 0.0, yy = 0.0;
            for (int i = 0; i < n; i++) {
                y[i] = g[i] - S->prev_g[i];
                ys += y[i] * (S->d[i] * S->t);
            }
            if (ys > S->tol_ys) {
                int slot;
                if (S->n_old == H) {
                    slot = S->head;
                    S->head = (S->head + 1) % H;
                } else {
                    slot = (S->head + S->n_old) % H;
                    S->n_old++;
                }
                double *dy = S->dirs + (size_t)slot * n, *ds = S->stps + (size_t)slot * n;
                for (int i = 0; i < n; i++) {
                    dy[i] = y[i];
                    ds[i] = S->d[i] * S->t;
                    yy += y[i] * y[i];
                }
                S->ro[slot] = 1.0 / ys;
                S->H_diag = ys / yy;
            }
            /* two-loop recursion, newest to oldest and back */
            for (int i = 0; i < n; i++) q[i] = -g[i];
            for (int m = S->n_old - 1; m >= 0; m--) {
                const int slot = (S->head + m) % H;
                const double *dy = S->dirs + (size_t)slot * n, *ds = S->stps + (size_t)slot * n;
                S->al[slot] = dot(ds, q, n) * S->ro[slot];
                for (int i = 0; i < n; i++) q[i] -= S->al[slot] * dy[i];
            }
            for (int i = 0; i < n; i++) S->d[i] = q[i] * S->H_diag;
            for (int m = 0; m < S->n_old; m++) {
                const int slot = (S->head + m) % H;
                const double *dy = S->dirs + (size_t)slot * n, *ds = S->stps + (size_t)slot * n;
                const double be = dot(dy, S->d, n) * S->ro[slot];
                for (int i = 0; i < n; i++) S->d[i] += (S->al[slot] - be) * ds[i];
            }
        }
        memcpy(S->prev_g, g, sizeof(double) * n);
        const double prev_loss = loss;
        if (S->n_iter == 1) {
            double sum = 0.0;
            for (int i = 0; i < n; i++) sum += fabs(g[i]);
            S->t = (1.0 / sum < 1.0 ? 1.0 / sum : 1.0) * S->lr;
        } else {
            S->t = S->lr;
        }
        const double gtd = dot(g, S->d, n);
        if (gtd > -S->tol_change) break;
        double t = S->t;
        const int ls = strong_wolfe(&D, &t, loss, g, gtd, S->max_eval - current_evals, &loss,
                                    g, w);
        S->t = t;
        for (int i = 0; i < n; i++) x[i] += t * S->d[i];
        const int opt_cond = absmax(g, n) <= S->tol_grad;
        current_evals += ls;
        S->func_evals += ls;
        if (n_iter == S->max_iter) break;
        if (current_evals >= S->max_eval) break;
        if (opt_cond) break;
        double step = 0.0;
        for (int i = 0; i < n; i++) {
            const double v = fabs(S->d[i] * t);
            if (v > step) step = v;
        }
        if (step <= S->tol_change) break;
        if (fabs(loss - prev_loss) < S->tol_change) break;
    }
    free(buf);
    return 0;
}
