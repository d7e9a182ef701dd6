"""The Python synced traits are the TypeScript `Model` (js/model.ts), name for name."""

from __future__ import annotations

import re
from pathlib import Path

import anywidget

from kanwidget import KANWidget

MODEL_TS = Path(__file__).resolve().parents[2] / "js" / "model.ts"


def ts_model_keys(source: str) -> set[str]:
    body = re.search(r"export interface Model\s*\{(.*?)\n\}", source, re.S)
    assert body, "js/model.ts has no `export interface Model { ... }`"
    return set(re.findall(r"^\s*([A-Za-z_]\w*)\??\s*:", body.group(1), re.M))


def python_synced_traits() -> set[str]:
    base = set(anywidget.AnyWidget.class_trait_names(sync=True))
    return {
        n for n in KANWidget.class_trait_names(sync=True) if n not in base and not n.startswith("_")
    }


def test_contract_trait_names_equal_typescript_model_keys():
    ts = ts_model_keys(MODEL_TS.read_text())
    py = python_synced_traits()
    assert py == ts, f"only in Python: {sorted(py - ts)}; only in TypeScript: {sorted(ts - py)}"


def test_contract_documented_traits_match(repo_root):
    table = (repo_root / "docs" / "widget_contract.md").read_text()
    documented = set(re.findall(r"^\| `(\w+)` \|", table, re.M))
    assert documented == python_synced_traits()
