"""`python -m kanwidget ...`: the `kanwidget` command line (see `kanwidget.cli`)."""

from kanwidget.cli import main

if __name__ == "__main__":
    main(prog="python -m kanwidget")
