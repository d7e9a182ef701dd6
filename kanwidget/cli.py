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

from .sharing import add_export_arguments, run_export

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
    add_export_arguments(export)
    return parser


def main(argv: list[str] | None = None, prog: str = "kanwidget") -> None:
    """Entry point of the `kanwidget` console script; exits with status 0 on success."""
    parser = _parser(prog)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.command == "export":
        run_export(args, parser)
    sys.exit(0)
