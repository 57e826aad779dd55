"""The magics' side of the JupyterLab terminals panel: the socket and the frontend's cue.

Inside a kernel started by Jupyter (a live notebook, nbclient, VS Code), the
terminals are served on the kernel's Unix socket (``modwsgi_magics/panel``),
which the Jupyter server's relay finds from the kernel id. The panel is told
to open through a comm message (target :data:`COMM_TARGET`): comm messages
are never cell outputs, and where no frontend registered the target (nbclient,
VS Code, JupyterLab without the extension) they are dropped. Outside a kernel
(a plain ``InteractiveShell``) nothing of this happens.
"""

from __future__ import annotations

import contextlib
import logging
import urllib.parse
from typing import Any

from ..panel import PanelSocket, socket_path

#: The comm target the frontend registers on each notebook's kernel.
COMM_TARGET = "modwsgi_magics.panel"
#: Hosts whose ports jupyter-server-proxy's ``/proxy/PORT/`` reaches.
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1", "0.0.0.0")

log = logging.getLogger(__name__)


def _kernel_app() -> Any:
    """The running IPKernelApp, or None outside a kernel."""
    try:
        from ipykernel.kernelapp import IPKernelApp
    except ImportError:
        return None
    return IPKernelApp.instance() if IPKernelApp.initialized() else None


def kernel_socket() -> PanelSocket | None:
    """Serve this kernel's terminals on its socket; None outside a kernel, or if
    the socket cannot be made (the terminals work as ever, unseen)."""
    app = _kernel_app()
    if app is None:
        return None
    try:
        from ipykernel.connect import get_connection_file

        return PanelSocket(socket_path(get_connection_file(app)))
    except (OSError, RuntimeError) as err:
        log.warning("modwsgi_magics: no terminals panel for this kernel: %s", err)
        return None


def tell_frontend(event: str, **data: Any) -> None:
    """Send the panel ``event`` through a one-off comm (never a cell output)."""
    if _kernel_app() is None:
        return
    try:
        import comm  # ships with ipykernel 6.18 and newer; older kernels get no cues
    except ImportError:
        return
    with contextlib.suppress(Exception):  # no frontend is no error
        channel = comm.create_comm(target_name=COMM_TARGET, data={"event": event, **data})
        channel.close()


def proxied(url: str) -> tuple[int, str]:
    """The port and path by which jupyter-server-proxy reaches ``url``.

    >>> proxied("http://localhost:8000/hello?x=1")
    (8000, '/hello?x=1')
    >>> proxied("localhost:8080")
    (8080, '/')
    """
    if "://" not in url:
        url = "http://" + url
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or parts.hostname not in LOCAL_HOSTS:
        raise ValueError(
            f"not a URL of this machine: {url!r} (write http://localhost:PORT/; "
            "jupyter-server-proxy reaches only local ports)"
        )
    port = parts.port or (443 if parts.scheme == "https" else 80)
    path = parts.path or "/"
    return port, path + (f"?{parts.query}" if parts.query else "")
