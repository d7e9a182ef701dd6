"""The `kanwidget` command line (also `python -m kanwidget`).

    kanwidget export NOTEBOOK [-o OUT.html] [--execute] [--theme dark] [--js-dir DIR]

writes NOTEBOOK as one HTML file whose widgets, loss charts and TeX render offline
(`kanwidget.sharing.export_html`); `--execute` runs it first with nbclient, which stores
the widget state. Errors are reported on stderr with exit status 1 or 2, never as a
traceback for a user mistake (missing file, notebook without widget state is a warning).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["main"]


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description="kanwidget tools")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    export = sub.add_parser(
        "export",
        help="export a notebook to one HTML file that renders offline",
        description="Export a notebook to one HTML file whose widgets and TeX render "
        "offline (no kernel, no CDN).",
    )
    export.add_argument("notebook", type=Path, help="the .ipynb file")
    export.add_argument("out_positional", type=Path, nargs="?", help=argparse.SUPPRESS)
    export.add_argument(
        "-o", "--output", type=Path, default=None, help="the HTML file (default: NOTEBOOK.html)"
    )
    export.add_argument(
        "--execute", action="store_true", help="run every cell first (stores the widget state)"
    )
    export.add_argument("--theme", choices=["light", "dark"], default="light")
    export.add_argument(
        "--timeout", type=float, default=600.0, help="seconds per cell with --execute"
    )
    export.add_argument(
        "--js-dir", type=Path, default=None, help="node_modules or a folder with the scripts"
    )
    return parser


def _export(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    from .sharing import execute_notebook, export_html

    if args.output is not None and args.out_positional is not None:
        parser.error("give the output once: either OUT or -o OUT")
    if not args.notebook.is_file():
        parser.error(f"{args.notebook}: no such notebook")
    out = args.output or args.out_positional or args.notebook.with_suffix(".html")
    source = args.notebook
    if args.execute:
        from nbclient.exceptions import CellExecutionError

        try:
            source = execute_notebook(args.notebook, timeout=args.timeout)
        except CellExecutionError as exc:
            parser.exit(1, f"{args.notebook}: a cell failed while executing:\n{exc}\n")
    try:
        export_html(source, out, args.js_dir, theme=args.theme)
    except FileNotFoundError as exc:
        parser.exit(1, f"{parser.prog}: {exc}\n")
    print(f"wrote {out}")


def main(argv: list[str] | None = None, prog: str = "kanwidget") -> None:
    """Entry point of the `kanwidget` console script; exits with status 0 on success."""
    parser = _parser(prog)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.command == "export":
        _export(args, parser)
    sys.exit(0)
