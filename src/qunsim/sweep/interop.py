"""``evaluate``: one run as a plain function, for EMA Workbench, SALib and friends."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["evaluate"]


def _key(name: str) -> str:
    # Python keyword arguments cannot hold dots: community__chatter_share = community.chatter_share
    return name.replace("__", ".")


def evaluate(X: Any = None, /, *, names: list[str] | None = None, output: str | list[str] | None = None,
             seed: int = 0, steps: int | None = None, config: Any = None, **params: Any) -> Any:
    """Run one simulation with dotted parameters and return its summary.

    Two uses:

    * ``evaluate(**params) -> dict`` — an EMA Workbench model function: keyword parameters
      are dotted config keys (``**{"community.chatter_share": 0.2}``, or with ``__`` for the
      dots: ``community__chatter_share=0.2``); returns the run's summary statistics.
    * ``evaluate(X, names=[...], output="final_active") -> ndarray`` — a SALib ``evaluate``
      target: one run per row of ``X`` (columns in the order of ``names``), returning the
      chosen output(s) per row (``ProblemSpec.evaluate(qs.evaluate, names=sp["names"],
      output="final_active")``).

    Parameters
    ----------
    seed : the run's seed (rows of ``X`` use ``seed + row``).
    steps : days (default: the config's ``run.steps``).
    config : base scenario (Config, TOML path, nested dict or dict of dotted keys; default:
        the defaults).

    Examples
    --------
    >>> import qunsim as qs
    >>> small = {"community.n_seed": 30, "community.n_prospects": 200}
    >>> out = qs.evaluate(steps=10, seed=1, **small, community__chatter_share=0.2)
    >>> out["steps"], out == qs.evaluate(steps=10, seed=1, **small, **{"community.chatter_share": 0.2})
    (10, True)
    >>> X = np.array([[0.0], [0.3]])
    >>> qs.evaluate(X, names=["community.chatter_share"], output="final_active",
    ...             steps=5, config=small).shape
    (2,)
    """
    from qunsim.config import load_config
    from qunsim.simulation import simulate

    if isinstance(config, dict) and any("." in str(k) for k in config):
        base = load_config(None, overrides=config)  # a dict of dotted keys
    else:
        base = load_config(config if not isinstance(config, (str, Path)) else Path(config))
    overrides = {_key(k): v for k, v in params.items()}
    if X is None:
        return dict(simulate(base, rng=seed, steps=steps, **overrides).summary)
    X = np.atleast_2d(np.asarray(X))
    if names is None or len(names) != X.shape[1]:
        raise ValueError(f"evaluate(X, names=...) needs one name per column of X ({X.shape[1]}), got {names!r}")
    outputs = [output] if isinstance(output, str) or output is None else list(output)
    if outputs == [None]:
        raise ValueError("evaluate(X, ...) needs output= (a summary key, or a list of them)")
    rows = []
    for i, x in enumerate(X):
        point = {**overrides, **{_key(n): (v.item() if hasattr(v, "item") else v) for n, v in zip(names, x, strict=True)}}
        s = simulate(base, rng=seed + i, steps=steps, **point).summary
        rows.append([s[o] for o in outputs])
    y = np.asarray(rows, dtype=float)
    return y[:, 0] if isinstance(output, str) else y
