"""The kernel's side of the JupyterLab terminals panel: a Unix socket per kernel.

``socket.py`` serves a kernel's terminals (their :class:`~modwsgi_magics.engine.view.TerminalFeed`)
to the Jupyter server's relay (``modwsgi_magics/server``); ``paths.py`` says
where that socket is, for both sides. No IPython here, and no Jupyter server.
"""

from .paths import socket_path
from .socket import PanelSocket

__all__ = ["PanelSocket", "socket_path"]
