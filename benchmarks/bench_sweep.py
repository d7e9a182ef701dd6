"""kanwidget.sweep: 16 universes with 1 and 2 workers, and joblib's per-task overhead.

1. Wall time of ``sweep`` over 16 configurations (model seeds 0-7 x widths ``[2,5,1]`` and
   ``[2,[3,1],1]``, the tutorial pipeline with ``--steps`` LBFGS steps per fit, on
   ``exp(sin(pi x) + y^2)``, 500 + 500 samples) with ``n_jobs=1`` (in this process) and
   ``n_jobs=2`` (loky worker processes; the pool is warmed first, its cold start is
   reported apart).  Every task uses one torch thread (``threads_per_worker=1``).  The
   results of both runs are compared bitwise (losses, formulas).
2. Per-task overhead: 200 trivial tasks (``return k``) through ``joblib.Parallel`` with 2
   loky workers and with a ``dask.distributed.LocalCluster`` on 127.0.0.1 (2 worker
   processes, 1 thread each), warm pools; overhead = wall / tasks.

Wall clock throughout (parallel speed-up is the point); on a shared machine the ratios move
with the load average printed in the header.
"""

from __future__ import annotations

import time

import torch
from _common import base_parser, markdown_table, setup, write_result

N_TASKS = 200


def _dataset():
    from kanwidget import create_dataset

    def f(x):
        return torch.exp(torch.sin(torch.pi * x[:, [0]]) + x[:, [1]] ** 2)

    return create_dataset(f, n_var=2, train_num=500, test_num=500, seed=0)


def _trivial(k: int) -> int:
    return k


def _overhead(parallel_config: dict) -> float:
    import joblib

    with joblib.parallel_config(**parallel_config):
        joblib.Parallel(n_jobs=2)(joblib.delayed(_trivial)(k) for k in range(10))  # warm
        t0 = time.perf_counter()
        out = joblib.Parallel(n_jobs=2)(joblib.delayed(_trivial)(k) for k in range(N_TASKS))
        dt = time.perf_counter() - t0
    assert out == list(range(N_TASKS))
    return dt / N_TASKS


def main(argv=None) -> int:
    p = base_parser(__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=20, help="LBFGS steps per fit (default 20)")
    args = p.parse_args(argv)
    header = setup(args.threads, "wall")
    import joblib

    from kanwidget import sweep

    ds = _dataset()
    grid = {"seed": list(range(8)), "width": [[2, 5, 1], [2, [3, 1], 1]]}
    kw = {"steps": args.steps, "progress": False}
    lines = [f"# bench_sweep\n\n{header}\n"]
    print(header, flush=True)

    t0 = time.perf_counter()
    sweep(ds, configs=[{"seed": 0}], n_jobs=2, **kw)  # starts and warms the loky pool
    cold = time.perf_counter() - t0
    walls = {}
    results = {}
    for n_jobs in (2, 1):  # 2 first: the warm loky pool idles out after 300 s
        t0 = time.perf_counter()
        results[n_jobs] = sweep(ds, grid=grid, n_jobs=n_jobs, **kw)
        walls[n_jobs] = time.perf_counter() - t0
        print(f"n_jobs={n_jobs}: {walls[n_jobs]:.1f} s", flush=True)
    same = all(
        (a.train_loss, a.test_loss, str(a.formula)) == (b.train_loss, b.test_loss, str(b.formula))
        for a, b in zip(results[1], results[2], strict=True)
    )
    failed = len(results[2].failed)
    per_task = sum(u.seconds for u in results[2]) / len(results[2])
    rows = [
        ["1 (in process)", f"{walls[1]:.1f}", "1.0x", f"{walls[1] / 16:.2f}"],
        ["2 (loky)", f"{walls[2]:.1f}", f"{walls[1] / walls[2]:.2f}x", f"{walls[2] / 16:.2f}"],
    ]
    lines.append(
        f"## 16 universes, tutorial pipeline, {args.steps} LBFGS steps per fit, 1 torch "
        "thread per task\n\n"
        + markdown_table(["workers", "wall s", "speed-up", "s per universe"], rows)
        + f"\n\nloky pool cold start (first call, 1 universe): {cold:.1f} s; mean universe "
        f"time in a worker {per_task:.2f} s; failed universes: {failed}; 1-worker and "
        f"2-worker results bitwise equal: {'yes' if same else 'NO'}\n"
    )

    loky = _overhead({"backend": "loky"})
    print(f"loky overhead {loky * 1e3:.2f} ms/task", flush=True)
    dask_row = ["dask.distributed (LocalCluster, 2 processes x 1 thread)", "not installed"]
    try:
        from distributed import Client, LocalCluster

        with (
            LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                         dashboard_address=None) as cluster,
            Client(cluster),
        ):  # fmt: skip
            dask = _overhead({"backend": "dask"})
        dask_row[1] = f"{dask * 1e3:.2f}"
        print(f"dask overhead {dask * 1e3:.2f} ms/task", flush=True)
    except ImportError:
        pass
    lines.append(
        f"## Per-task overhead ({N_TASKS} trivial tasks, warm pools, 2 workers)\n\n"
        + markdown_table(
            ["backend", "ms per task"], [["loky (local processes)", f"{loky * 1e3:.2f}"], dask_row]
        )
        + "\n"
    )
    del joblib
    text = "\n".join(lines)
    print(text)
    if args.out:
        write_result(args.out, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
