"""The IPython glue: ``%load_ext modwsgi_magics`` registers :class:`TerminalMagics`.

IPython's extension manager already refuses to load an extension twice in one
shell, so the magics instance lives on the shell's magics registry, not in a
module global: each shell (several in one process, in tests) gets its own.
"""

from __future__ import annotations

import atexit
from typing import Any

from .terminal_magics import TerminalMagics

__all__ = ["TerminalMagics", "load_ipython_extension", "unload_ipython_extension"]


def load_ipython_extension(ipython: Any) -> None:
    """Register the magics; their terminals end with the kernel (or at unload)."""
    magics = TerminalMagics(shell=ipython)
    ipython.register_magics(magics)
    ipython.configurables.append(magics)  # so that %config TerminalMagics.X reaches it
    atexit.register(magics.close_all)


def unload_ipython_extension(ipython: Any) -> None:
    """End the terminals and remove the magics (``%unload_ext``, ``%reload_ext``)."""
    magics = ipython.magics_manager.registry.pop(TerminalMagics.__name__, None)
    if magics is None:
        return
    atexit.unregister(magics.close_all)
    magics.close_all()
    if magics in ipython.configurables:
        ipython.configurables.remove(magics)
    for kind in ("line", "cell"):
        for name in magics.magics[kind]:
            ipython.magics_manager.magics[kind].pop(name, None)
