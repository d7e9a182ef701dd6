"""``import kanwidget`` leaves the widget stack unloaded until ``KANWidget`` is used."""

import subprocess
import sys

import pytest


def _run(code: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return out.stdout.strip()


def test_import_kanwidget_does_not_load_the_widget_stack():
    code = (
        "import sys, kanwidget\n"
        "print(sorted(m for m in ('anywidget', 'ipywidgets', 'kanwidget.widget')"
        " if m in sys.modules))"
    )
    assert _run(code) == "[]"


def test_kanwidget_widget_loads_on_first_use():
    code = (
        "import sys, kanwidget\n"
        "from kanwidget import KANWidget\n"
        "from kanwidget.widget import KANWidget as direct\n"
        "print(KANWidget is direct, 'anywidget' in sys.modules)"
    )
    assert _run(code) == "True True"


def test_unknown_attribute_raises_attribute_error():
    import kanwidget

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        kanwidget.nope  # noqa: B018
