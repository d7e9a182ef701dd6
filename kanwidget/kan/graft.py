"""Graft one model's version tree into another tree as new rounds (KAN 2.0, sec. 4.3).

Parallel universes (``kanwidget.sweep``) train independent models, each with its own
:class:`~kanwidget.kan.history.VersionTree` rooted at ``0.0``.  To let one timeline and
``history.compare`` span them, each universe's tree is grafted into a shared tree under a
chosen ``parent`` version.  The ids keep the ``round.step`` rule that ``VersionTree``
itself follows (and that ``VersionTree.load`` checks), by a constant shift:

* the source round ``r`` becomes round ``R + 1 + r`` of the target (``R`` = the target's
  largest round before the graft), so every grafted round is new and no id collides;
* the source step ``s`` becomes ``p + 1 + s`` (``p`` = the step of ``parent``), so the
  source root ``0.0`` becomes ``(R+1).(p+1)``, a new round whose parent is ``parent``,
  exactly like a commit that starts a new round; the other versions keep their own parents.

An empty target takes the source as it is (same ids, no parent needed).  With
``final_only=True`` only the source's current version is grafted, as one version
``(R+1).(p+1)`` under ``parent``.  Stored tensors are shared with the source (histories never
mutate them), so a graft costs no tensor copies.  The target's current version is left
where it was (or, for an empty target, set to the source's current version).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from .history import VersionTree
from .history_format import plain


def graft(
    tree: VersionTree,
    source: VersionTree,
    parent: str | None = None,
    *,
    final_only: bool = False,
    arguments: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """Copy ``source``'s versions into ``tree`` as new rounds under ``parent``.

    Parameters
    ----------
    tree : the shared tree (changed in place)
    source : the tree to graft (left unchanged)
    parent : id in ``tree`` the grafted root hangs from; required unless ``tree`` is empty
    final_only : graft only ``source.current`` (one version) instead of every version
    arguments : JSON-like values merged into the grafted root's ``arguments`` (e.g. the
        universe's configuration), so the timeline says where the branch came from

    Returns
    -------
    dict
        source id -> new id in ``tree``, for every grafted version.

    Raises
    ------
    ValueError
        ``source`` is empty, ``parent`` is missing for a non-empty ``tree``, or given for an
        empty one. ``KeyError`` if ``parent`` is not in ``tree``. Nothing is changed then.
    """
    extra = plain(dict(arguments or {}), "arguments")
    with source._lock:
        if not len(source):
            raise ValueError("cannot graft an empty history")
        versions = [source.current] if final_only else list(source)
        source_current = source.current.id
    with tree._lock:
        empty, previous = not len(tree), tree._current
        if empty and parent is not None:
            raise ValueError(f"the target history is empty: there is no version {parent!r}")
        if not empty and parent is None:
            raise ValueError("grafting into a non-empty history needs parent=<version id>")
        anchor = None if parent is None else tree[parent]  # KeyError naming the known ids
        base_round = 0 if anchor is None else tree._max_round + 1
        base_step = 0 if anchor is None else anchor.step + 1
        mapping: dict[str, str] = {}
        for k, version in enumerate(versions):
            if final_only:  # one version; a rewind keeps its parent's step (the id rule)
                rewind = version.operation == "rewind" and anchor is not None
                new_id = f"{base_round}.{base_step - rewind}"
            else:
                new_id = f"{base_round + version.round}.{base_step + version.step}"
            new_parent = None if anchor is None else anchor.id
            if k > 0:
                assert version.parent is not None  # only a root has no parent
                new_parent = mapping[version.parent]
            changes: dict[str, Any] = {"id": new_id, "parent": new_parent}
            if k == 0 and extra:
                changes["arguments"] = {**version.arguments, **extra}
            tree._add(replace(version, **changes))  # state shared: histories never mutate it
            mapping[version.id] = new_id
        tree._current = mapping[source_current] if empty else previous
    return mapping
