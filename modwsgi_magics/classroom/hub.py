"""JupyterHub's configuration for a classroom, built from :class:`Settings`.

``jupyterhub_config.py`` beside this file is all JupyterHub reads: it calls
:func:`configure`. What it sets up:

* the hub on ``CLASSROOM_PORT`` (all addresses, or ``CLASSROOM_IP``), its
  internal API and its proxy's API on loopback, state in ``CLASSROOM_STATE_DIR``;
* sign-in with :class:`ClassroomAuthenticator` (``auth.py``), any name allowed;
* each learner's JupyterLab started as them by the local-process spawner, on
  their own port, with the hooks of ``servers.py``; JupyterLab opens on their
  copy of the workshop;
* jupyterhub-idle-culler as a hub service, stopping servers idle for
  ``CLASSROOM_IDLE_TIMEOUT`` seconds (0: never);
* when the hub stops, every learner's server stops with it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from .accounts import NAME, WORKSHOP_FOLDER
from .auth import ClassroomAuthenticator
from .servers import LearnerServers
from .settings import Settings

TEMPLATES = Path(__file__).with_name("templates")
#: What the culler may do: see who is idle, and stop their servers.
CULLER_SCOPES = ["list:users", "read:users:activity", "read:servers", "delete:servers"]


def configure(c: Any, settings: Settings) -> None:
    """Fill JupyterHub's config object ``c`` for ``settings``."""
    state = settings.state_dir
    c.JupyterHub.bind_url = f"http://{settings.ip}:{settings.port}"
    c.JupyterHub.hub_ip = "127.0.0.1"
    c.JupyterHub.hub_port = settings.hub_api_port
    c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
    c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
    c.JupyterHub.pid_file = str(state / "jupyterhub.pid")
    c.JupyterHub.cleanup_servers = True
    c.JupyterHub.template_paths = [str(TEMPLATES)]
    c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{settings.proxy_api_port}"
    c.ConfigurableHTTPProxy.command = [settings.proxy]
    c.ConfigurableHTTPProxy.pid_file = str(state / "jupyterhub-proxy.pid")

    c.JupyterHub.authenticator_class = ClassroomAuthenticator
    c.Authenticator.allow_all = True
    c.Authenticator.username_pattern = f"^{NAME.pattern}$"
    c.Authenticator.request_otp = True
    c.Authenticator.otp_prompt = "Your own password:"
    c.ClassroomAuthenticator.workshop_password = settings.password
    c.ClassroomAuthenticator.claims_file = str(state / "claims.json")
    c.ClassroomAuthenticator.learner_group = settings.group

    servers = LearnerServers(settings)
    c.JupyterHub.spawner_class = "localprocess"
    c.Spawner.cmd = settings.server_command()
    c.Spawner.default_url = f"/lab/tree/{WORKSHOP_FOLDER}/01-overview.ipynb"
    c.Spawner.env_keep = []  # nothing of the hub's venv or PATH: environment() says all
    c.Spawner.pre_spawn_hook = servers.prepare
    c.Spawner.post_stop_hook = servers.clean_up
    c.Spawner.start_timeout = 120
    c.Spawner.http_timeout = 60
    c.JupyterHub.services, c.JupyterHub.load_roles = culler(settings)


def culler(settings: Settings) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The idle culler as a hub service, and the role that lets it stop servers."""
    if settings.idle_timeout <= 0:
        return [], []
    every = max(5, min(300, settings.idle_timeout // 4))
    command = [
        sys.executable,
        "-m",
        "jupyterhub_idle_culler",
        f"--timeout={settings.idle_timeout}",
        f"--cull-every={every}",
    ]
    service = {"name": "idle-culler", "command": command}
    role = {"name": "idle-culler", "scopes": CULLER_SCOPES, "services": ["idle-culler"]}
    return [service], [role]
