"""The native library's cache (kan/kernels/build.py): builds of other sources are kept up to
a limit, newest first, so checkouts sharing the cache do not rebuild each other's library."""

from __future__ import annotations

import os

from kanwidget.kan.kernels import build


def test_evict_old_builds_keeps_the_newest_and_the_current(tmp_path):
    names = [f"kanwidget_native_{i:016x}.so" for i in range(11)]
    for age, name in enumerate(names):  # names[0] newest ... names[10] oldest
        (tmp_path / name).write_bytes(b"")
        os.utime(tmp_path / name, (1e9 - age * 100, 1e9 - age * 100))
    current = tmp_path / names[10]  # the build just made, even if its mtime were the oldest
    other = tmp_path / "unrelated.so"
    other.write_bytes(b"")
    deleted = build.evict_old_builds(current, keep=4)
    assert sorted(p.name for p in deleted) == sorted(names[3:10])
    remaining = sorted(p.name for p in tmp_path.iterdir())
    assert remaining == sorted([*names[:3], names[10], "unrelated.so"])


def test_evict_old_builds_under_the_limit_deletes_nothing(tmp_path):
    paths = [tmp_path / f"kanwidget_native_{i:016x}.so" for i in range(3)]
    for p in paths:
        p.write_bytes(b"")
    assert build.evict_old_builds(paths[0], keep=build.KEEP_BUILDS) == []
    assert all(p.exists() for p in paths)
