"""Hints for error messages: "did you mean `community.chatter_share`?".

Every loader that refuses an unknown key (scenario files, dotted overrides and ``--set``,
sweep files, strategy files) asks :func:`did_you_mean` for the nearest known key.

Examples
--------
>>> did_you_mean("chater_share", ["chatter_share", "spammer_share", "n_seed"], prefix="community.")
'; did you mean `community.chatter_share`?'
>>> did_you_mean("zzz", ["chatter_share"])
''
"""

from __future__ import annotations

import difflib
import typing
from collections.abc import Iterable
from typing import Any

__all__ = ["did_you_mean", "closest", "fields_at"]


def closest(word: str, choices: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The choice nearest to ``word`` by :func:`difflib.get_close_matches`, or None."""
    found = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=cutoff)
    return found[0] if found else None


def did_you_mean(word: str, choices: Iterable[str], *, prefix: str = "") -> str:
    """``"; did you mean `<prefix><choice>`?"`` for the nearest choice, or ``""`` if none is near."""
    best = closest(word, choices)
    return f"; did you mean `{prefix}{best}`?" if best is not None else ""


def _unwrap(tp: Any) -> list[Any]:
    """The candidate types inside ``Optional``/``Union``/``Annotated``."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(tp)[0])
    if origin is typing.Union or str(origin) == "<class 'types.UnionType'>":
        out: list[Any] = []
        for a in typing.get_args(tp):
            out.extend(_unwrap(a))
        return out
    return [tp]


def fields_at(model: Any, loc: Iterable[Any]) -> list[str]:
    """The field names of the pydantic model reached by following ``loc`` from ``model``.

    ``loc`` is a pydantic error location without its last part (the unknown key); dict keys
    and list indices along the way are stepped over. Returns ``[]`` where the location is not
    a model (a free-form table).
    """
    from pydantic import BaseModel

    cur: list[Any] = [model]
    for part in loc:
        nxt: list[Any] = []
        for tp in cur:
            for t in _unwrap(tp):
                if isinstance(t, type) and issubclass(t, BaseModel):
                    f = t.model_fields.get(str(part))
                    if f is not None:
                        nxt.append(f.annotation)
                elif typing.get_origin(t) in (dict, list):
                    nxt.append(typing.get_args(t)[-1] if typing.get_args(t) else Any)
        cur = nxt
    names: list[str] = []
    for tp in cur:
        for t in _unwrap(tp):
            if isinstance(t, type) and issubclass(t, BaseModel):
                names.extend(t.model_fields)
    return names
