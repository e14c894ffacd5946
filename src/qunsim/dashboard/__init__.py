"""A live dashboard of a community on Mesa's visualization (SolaraViz).

``qunsim dashboard [SCENARIO.toml]`` serves it on 127.0.0.1; in a notebook::

    import qunsim.dashboard
    qunsim.dashboard.app("configs/knowledge_community.toml")   # last expression of a cell

The web stack (solara, altair) is the ``viz`` extra (``pip install "qunsim[viz]"``) and is
imported only when :func:`app` is called: ``import qunsim`` stays light.
"""

from __future__ import annotations

__all__ = ["app", "DashboardModel", "CompareModel", "LEVERS"]


def app(*args, **kwargs):
    """The dashboard page; see :func:`qunsim.dashboard.viz.app` for the parameters."""
    try:
        from qunsim.dashboard.viz import app as _app
    except ModuleNotFoundError as e:
        if e.name and e.name.split(".")[0] in ("solara", "mesa", "altair", "reacton", "ipywidgets"):
            raise ModuleNotFoundError(
                f"the dashboard needs the `viz` extra ({e.name} is missing): "
                "pip install \"qunsim[viz]\"", name=e.name) from None
        raise
    return _app(*args, **kwargs)


def __getattr__(name: str):
    if name in ("DashboardModel", "CompareModel", "LEVERS"):
        from qunsim.dashboard import levers

        return getattr(levers, name)
    raise AttributeError(f"module 'qunsim.dashboard' has no attribute {name!r}")
