"""Progress bars for single runs (``qunsim run`` and ``model.run_for(n, progress=True)``).

Bars are drawn by tqdm on standard error, and only where someone can see them: in a terminal
or a Jupyter notebook. Under pytest, CI logs or output redirected to a file they are off, so
logs stay clean.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager

__all__ = ["progress_enabled", "day_bar"]


def _in_notebook() -> bool:
    shell = sys.modules.get("IPython")
    try:
        ip = shell.get_ipython() if shell is not None else None
    except Exception:  # noqa: BLE001 - any IPython trouble: not a notebook
        return False
    return ip is not None and type(ip).__name__ == "ZMQInteractiveShell"


def progress_enabled(requested: bool | None = True) -> bool:
    """Whether to draw a bar: ``requested`` and standard error is a terminal or a notebook.

    ``requested=None`` means "when visible" (the command line's default).
    """
    if requested is False:
        return False
    try:
        tty = sys.stderr.isatty()
    except (AttributeError, ValueError):
        tty = False
    return tty or _in_notebook()


@contextmanager
def day_bar(total: int, *, enabled: bool, desc: str = "days"):
    """A tqdm bar over ``total`` days (or a do-nothing stand-in when not ``enabled``).

    The bar shows the active membership as its postfix, updated with ``bar.update(1)`` and
    ``bar.set_postfix_str(...)``.
    """
    if not enabled:
        yield _NoBar()
        return
    if _in_notebook():
        from tqdm.auto import tqdm
    else:
        from tqdm import tqdm
    bar = tqdm(total=total, desc=desc, unit="day", leave=True, file=sys.stderr)
    try:
        yield bar
    finally:
        bar.close()


class _NoBar:
    def update(self, n: int = 1) -> None:
        pass

    def set_postfix_str(self, s: str = "", refresh: bool = True) -> None:
        pass
