"""Two persistent bash terminals for notebooks: ``%load_ext modwsgi_magics``."""

from .engine import Readiness, RunResult, Terminal

__all__ = ["Readiness", "RunResult", "Terminal", "load_ipython_extension"]


def load_ipython_extension(ipython) -> None:  # noqa: ANN001 - IPython's shell
    from .magics import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython) -> None:  # noqa: ANN001
    from .magics import unload_ipython_extension as unload

    unload(ipython)
