"""Profile kanwidget's hot paths (not part of ``run_all``): Adam steps under ``torch.profiler``
and the 50-step LBFGS fit under cProfile.

Usage: ``python benchmarks/profile_train.py [--threads 1] [--steps 5] [--rows 25]``
"""

from __future__ import annotations

import cProfile
import io
import pstats
import sys

from _common import base_parser, setup
from bench_train import adam_step_fn, make_ours, random_data, target_fn
from torch.profiler import ProfilerActivity, profile

CASES = [([8, 32, 32, 1], 4096), ([4, 100, 100, 100, 1], 1000)]
ALL_CASES = [([2, 5, 1], 1000), *CASES, ([100, 1000, 1], 1000)]


def profile_adam(width, batch, steps: int, rows: int) -> None:
    model = make_ours(width)
    x, y = random_data(width, batch)
    step = adam_step_fn(model, x, y)
    for _ in range(3):
        step()
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        for _ in range(steps):
            step()
    print(f"\n### Adam step {width} batch {batch}: {steps} steps, sorted by self CPU time\n")
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=rows))
    print(f"\n### same, grouped by input shape (top {rows})\n")
    print(
        prof.key_averages(group_by_input_shape=True).table(
            sort_by="self_cpu_time_total", row_limit=rows
        )
    )


def profile_lbfgs(rows: int) -> None:
    from kanwidget import KAN, create_dataset

    ds = create_dataset(target_fn, n_var=2, train_num=1000, test_num=1000, seed=0)
    model = KAN([2, 5, 1], grid=5, k=3, seed=0)
    pr = cProfile.Profile()
    pr.enable()
    model.fit(ds, opt="LBFGS", steps=50, lamb=0.001, progress=False)
    pr.disable()
    for key in ("tottime", "cumulative"):
        s = io.StringIO()
        pstats.Stats(pr, stream=s).sort_stats(key).print_stats(rows)
        print(f"\n### LBFGS fit [2,5,1] 50 steps lamb=0.001, cProfile by {key}\n")
        print(s.getvalue())


def main(argv=None) -> int:
    p = base_parser(__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--rows", type=int, default=25)
    p.add_argument("--only", default="adam,lbfgs")
    p.add_argument("--all-sizes", action="store_true", help="also [2,5,1] and [100,1000,1]")
    args = p.parse_args(argv)
    print(setup(args.threads, args.clock))
    only = set(args.only.split(","))
    if "adam" in only:
        for width, batch in ALL_CASES if args.all_sizes else CASES:
            profile_adam(width, batch, args.steps, args.rows)
    if "lbfgs" in only:
        profile_lbfgs(args.rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
