"""The Jupyter server's part of the terminals panel: an authenticated relay.

``pip install`` enables it (``jupyter-config/jupyter_server_config.d``, shipped
as shared data). It opens no port of its own: the browser reaches a kernel's
terminals through the Jupyter server's websocket, behind its login, and the
server reaches them through the kernel's private Unix socket (``panel/``).
"""

from __future__ import annotations

from typing import Any

from .handlers import setup_handlers


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "modwsgi_magics.server"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    setup_handlers(serverapp.web_app)
    serverapp.log.info("modwsgi_magics: the terminals panel relay is on")
