"""kanwidget.sweep: 16 universes with 1 and 2 workers, and joblib's per-task overhead.

1. Wall time of ``sweep`` over 16 configurations (model seeds 0-7 x widths ``[2,5,1]`` and
   ``[2,[3,1],1]``, the tutorial pipeline with ``--steps`` LBFGS steps per fit, on
   ``exp(sin(pi x) + y^2)``, 500 + 500 samples) with ``n_jobs=1`` (in this process) and
   ``n_jobs=2`` (loky worker processes).  The speed-up counts everything the user waits for:
   before every 2-worker run the loky pool is shut down, so each run pays the workers'
   start-up (importing torch and kanwidget) as a first ``sweep`` of a session does; a run
   on the warm pool is reported beside it.  Both sides run in this one process, interleaved
   (``--repeats`` rounds, the order alternating), with the load average before each round;
   the median ratio is the headline.  Every task uses one torch thread
   (``threads_per_worker=1``).  The results of both sides are compared bitwise.
2. Per-task overhead: 200 trivial tasks (``return k``) through ``joblib.Parallel`` with 2
   loky workers and with a ``dask.distributed.LocalCluster`` on 127.0.0.1 (2 worker
   processes, 1 thread each), warm pools; overhead = wall / tasks.

Wall clock throughout (parallel speed-up is the point); on a shared machine the ratios move
with the load average printed in the header.
"""

from __future__ import annotations

import os
import statistics
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


def _same(a, b) -> bool:
    return (a.train_loss, a.test_loss, a.n_edges, str(a.formula)) == (
        b.train_loss, b.test_loss, b.n_edges, str(b.formula)
    )  # fmt: skip


def _shutdown_pool() -> None:
    """Stop joblib's reusable loky workers, so the next ``Parallel`` starts new ones."""
    from joblib.externals.loky import get_reusable_executor

    get_reusable_executor().shutdown(wait=True)


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
    p.add_argument("--repeats", type=int, default=3, help="interleaved rounds (default 3)")
    args = p.parse_args(argv)
    header = setup(args.threads, "wall")
    import joblib

    from kanwidget import sweep

    ds = _dataset()
    grid = {"seed": list(range(8)), "width": [[2, 5, 1], [2, [3, 1], 1]]}
    kw = {"steps": args.steps, "progress": False}
    lines = [f"# bench_sweep\n\n{header}\n"]
    print(header, flush=True)

    walls: dict[str, list[float]] = {"1": [], "2 cold": [], "2 warm": []}
    loads: list[float] = []
    results = {}
    for rep in range(args.repeats):
        loads.append(os.getloadavg()[0])
        order = ("2 cold", "2 warm", "1") if rep % 2 == 0 else ("1", "2 cold", "2 warm")
        for side in order:
            if side == "2 cold":
                _shutdown_pool()
            t0 = time.perf_counter()
            results[side] = sweep(ds, grid=grid, n_jobs=1 if side == "1" else 2, **kw)
            walls[side].append(time.perf_counter() - t0)
            print(f"round {rep}: n_jobs={side}: {walls[side][-1]:.1f} s", flush=True)
    same = all(
        _same(a, b) and _same(a, c)
        for a, b, c in zip(results["1"], results["2 cold"], results["2 warm"], strict=True)
    )
    failed = len(results["2 cold"].failed)
    per_task = sum(u.seconds for u in results["2 cold"]) / len(results["2 cold"])
    per_task_1 = sum(u.seconds for u in results["1"]) / len(results["1"])
    med = {side: statistics.median(w) for side, w in walls.items()}
    ratios = [one / two for one, two in zip(walls["1"], walls["2 cold"], strict=True)]
    rows = [["1 (in process)", f"{med['1']:.1f}", "1.0x", f"{med['1'] / 16:.2f}"]]
    for side, label in (
        ("2 cold", "2 (loky, pool started by the call)"),
        ("2 warm", "2 (loky, warm pool)"),
    ):
        ratio = statistics.median(o / t for o, t in zip(walls["1"], walls[side], strict=True))
        rows.append([label, f"{med[side]:.1f}", f"{ratio:.2f}x", f"{med[side] / 16:.2f}"])
    lines.append(
        f"## 16 universes, tutorial pipeline, {args.steps} LBFGS steps per fit, 1 torch "
        f"thread per task; median of {args.repeats} interleaved rounds\n\n"
        + markdown_table(["workers", "wall s", "speed-up", "s per universe"], rows)
        + "\n\nspeed-up with the pool start per round: "
        + ", ".join(f"{r:.2f}x" for r in ratios)
        + "; load average before each round: "
        + ", ".join(f"{x:.1f}" for x in loads)
        + f"; mean universe time in a worker {per_task:.2f} s, in process {per_task_1:.2f} s; "
        f"failed universes: {failed}; in-process, cold-pool and warm-pool results bitwise "
        f"equal: {'yes' if same else 'NO'}\n"
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
