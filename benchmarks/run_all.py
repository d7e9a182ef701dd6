"""Run every ``benchmarks/bench_*.py`` and collect their tables in ``benchmarks/results/``.

Each benchmark runs in its own process (same ``--threads``/``--quick``/``--no-pykan``) and
writes ``results/<name>.md``; this script concatenates all ``results/bench_*.md`` (including
ones not re-run with ``--only``) into ``results/summary.md``.
With ``--update-readme`` the summary also replaces the block between
``<!-- bench:start -->`` and ``<!-- bench:end -->`` in the top-level README.md (if present).

Usage: ``python benchmarks/run_all.py [--threads 1] [--quick] [--no-pykan] [--only train,symbolic]``
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
README = HERE.parent / "README.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--no-pykan", action="store_true")
    p.add_argument("--only", default="", help="comma list, e.g. train,symbolic")
    p.add_argument("--update-readme", action="store_true")
    args = p.parse_args(argv)
    only = set(filter(None, args.only.split(",")))
    scripts = sorted(HERE.glob("bench_*.py"))
    if only:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in only]
    extra = ["--threads", str(args.threads)]
    extra += ["--quick"] if args.quick else []
    extra += ["--no-pykan"] if args.no_pykan else []
    RESULTS.mkdir(parents=True, exist_ok=True)
    sections, failed = [], []
    for script in scripts:
        out = RESULTS / f"{script.stem}.md"
        print(f"== {script.name}", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.call([sys.executable, str(script), *extra, "--out", str(out)], cwd=HERE)
        print(f"== {script.name}: exit {rc} in {time.perf_counter() - t0:.0f} s", flush=True)
        if rc != 0:
            failed.append(script.name)
            out.write_text(f"# {script.stem}\n\nfailed (exit {rc}); see the console output.\n")
    # every benchmark's latest table (also those not re-run this time, e.g. with --only)
    for md in sorted(RESULTS.glob("bench_*.md")):
        sections.append(md.read_text())
    summary = "\n".join(sections)
    (RESULTS / "summary.md").write_text(summary)
    print(f"wrote {RESULTS / 'summary.md'}")
    if args.update_readme:
        _update_readme(summary)
    return 1 if failed else 0


def _update_readme(summary: str) -> None:
    if not README.exists():
        return
    text = README.read_text()
    if START not in text or END not in text:
        print(f"README.md has no {START} ... {END} block; not updated")
        return
    # demote headings by one level so they nest under the README's own section
    body = re.sub(r"^(#+) ", lambda m: "#" + m.group(1) + " ", summary, flags=re.M)
    new = (
        text[: text.index(START) + len(START)]
        + "\n"
        + body.strip()
        + "\n"
        + text[text.index(END) :]
    )
    README.write_text(new)
    print("updated README.md benchmark block")


if __name__ == "__main__":
    sys.exit(main())
