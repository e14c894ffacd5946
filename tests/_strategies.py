"""Hypothesis strategies drawn from the pydantic declarations (so they respect every bound).

``declared(Model, "field")`` draws valid values of a config key from its declared range
(exclusive bounds excluded, never inf or nan). A test that wants a smaller range passes
``lo``/``hi``; asking for values outside the declared range is an error, so a strategy can
never drift out of what the config accepts.
"""

from __future__ import annotations

import math

from hypothesis import strategies as hst

from qunsim.config import declared_bounds


def declared(model, name: str, lo: float | None = None, hi: float | None = None):
    """Valid values of ``model.name``, optionally narrowed to [lo, hi]."""
    b = declared_bounds(model)[name]
    if lo is not None and lo not in _closed(b) and not (lo == b.lo and b.lo_open):
        raise ValueError(f"{model.__name__}.{name}: lo={lo} is outside the declared range {b}")
    if hi is not None and hi not in _closed(b) and not (hi == b.hi and b.hi_open):
        raise ValueError(f"{model.__name__}.{name}: hi={hi} is outside the declared range {b}")
    low, low_open = (b.lo, b.lo_open) if lo is None or lo == b.lo else (lo, False)
    high, high_open = (b.hi, b.hi_open) if hi is None or hi == b.hi else (hi, False)
    if b.type is int:
        return hst.integers(math.floor(low) + 1 if low_open else math.ceil(low),
                            math.ceil(high) - 1 if high_open else math.floor(high))
    return hst.floats(low, high, exclude_min=low_open, exclude_max=high_open,
                      allow_nan=False, allow_infinity=False)


def _closed(b):
    return type(b)(b.type, b.lo, False, b.hi, False)
