"""Two persistent bash terminals for notebooks: ``%load_ext modwsgi_magics``.

The engine (:class:`Terminal`) needs no IPython; the magics are imported only
when IPython loads the extension.
"""

from __future__ import annotations

from typing import Any

from .engine import Readiness, RunResult, Terminal

__all__ = ["Readiness", "RunResult", "Terminal", "load_ipython_extension"]


def load_ipython_extension(ipython: Any) -> None:
    from .magics import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    from .magics import unload_ipython_extension as unload

    unload(ipython)


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """Where the built JupyterLab extension is (``jupyter labextension develop``)."""
    return [{"src": "labextension", "dest": "modwsgi-magics"}]
