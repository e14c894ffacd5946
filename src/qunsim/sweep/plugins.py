"""Fingerprints of the user policy modules a sweep names (``class = "pkg.mod:Class"``).

A sweep records the SHA-256 of each such module's source file in its manifest, and
``--resume`` refuses to go on when one changed (the runs of the two versions would be mixed).
The modules are found on ``sys.path`` the way ``import`` would find them, but not imported:
no user code runs here. Only the named module's own file is hashed, not what it imports.
qunsim's own modules are left out (the manifest records qunsim's version and git commit).
"""

from __future__ import annotations

import hashlib
import sys
from importlib.machinery import PathFinder
from typing import Any

__all__ = ["plugin_sources", "plugin_changes"]

_FAMILIES = ("gate", "activity", "monetization")


def _class_paths(obj: Any, out: set[str]) -> None:
    if isinstance(obj, dict):
        c = obj.get("class")
        if isinstance(c, str):
            out.add(c)
        for v in obj.values():
            if isinstance(v, dict):
                _class_paths(v, out)


def _module_of(path: str) -> str | None:
    mod, sep, _ = path.partition(":")
    if not sep:
        mod, _, _ = path.rpartition(".")
    mod = mod.strip()
    if not mod or mod == "qunsim" or mod.startswith("qunsim."):
        return None
    return mod


def find_source(modname: str) -> str | None:
    """The file ``import modname`` would load, found without importing anything."""
    parts = modname.split(".")
    search = None  # sys.path
    spec = None
    for i in range(len(parts)):
        name = ".".join(parts[: i + 1])
        loaded = sys.modules.get(name)
        try:
            spec = loaded.__spec__ if loaded is not None and loaded.__spec__ is not None else \
                PathFinder.find_spec(name, search)
        except (ImportError, ValueError, AttributeError):
            return None
        if spec is None:
            return None
        search = spec.submodule_search_locations
        if i < len(parts) - 1 and search is None:
            return None
    return spec.origin if spec is not None and spec.has_location else None


def plugin_sources(spec) -> dict[str, dict]:
    """``{module: {"path", "sha256"}}`` for every user policy module a sweep names.

    Looks at the base config(s) and at every axis value (a policy table given as an axis
    value, or a ``...class`` axis). A module that cannot be found gets ``sha256 = None``.
    """
    paths: set[str] = set()
    for cfg in (spec.bases or {None: spec.base}).values():
        d = cfg.to_dict()
        for fam in _FAMILIES:
            _class_paths(d.get(fam) or {}, paths)
    for a in spec.axes:
        if a.key.split(".")[0] not in _FAMILIES or a.is_range:
            continue
        for v in a.values:
            if isinstance(v, dict):
                _class_paths(v, paths)
            elif isinstance(v, str) and a.key.endswith(".class"):
                paths.add(v)
    if spec.csv_points is not None:
        for col in spec.csv_points.columns:
            if str(col).endswith(".class"):
                paths |= {v for v in spec.csv_points[col] if isinstance(v, str)}
    out = {}
    for mod in sorted({m for m in map(_module_of, paths) if m}):
        src = find_source(mod)
        digest = None
        if src is not None:
            try:
                with open(src, "rb") as f:
                    digest = hashlib.file_digest(f, "sha256").hexdigest()
            except OSError:
                digest = None
        out[mod] = {"path": src, "sha256": digest}
    return out


def plugin_changes(before: dict, now: dict) -> list[str]:
    """The modules whose source changed between two :func:`plugin_sources` results.

    Only a module found both times counts: one not found when the sweep started could not
    have run (those runs failed and are retried), and one not found now will fail the same
    way, so neither mixes two versions of the code.
    """
    out = []
    for mod in sorted(set(before) & set(now)):
        b, n = before.get(mod) or {}, now.get(mod) or {}
        if b.get("sha256") and n.get("sha256") and b["sha256"] != n["sha256"]:
            where = n.get("path") or b.get("path") or "not found"
            out.append(f"{mod} ({where}) changed: sha256 {str(b.get('sha256'))[:12]} -> {str(n.get('sha256'))[:12]}")
    return out
